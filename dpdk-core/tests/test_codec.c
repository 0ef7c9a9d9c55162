/* placeholder */
#include "sy_test.h"
int main(void) { return sy_test_summary(); }
