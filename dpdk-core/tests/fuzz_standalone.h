/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_standalone.h — main() for a fuzz target built without libFuzzer
 * (-DSY_FUZZ_STANDALONE, any C compiler): runs LLVMFuzzerTestOneInput over
 * every file named, and every file in every directory named.  meson test
 * runs it over the checked-in corpus (dpdk-core/tests/corpus/<target>/),
 * which is where crash reproducers go: each stays a regression case.
 * Prints "N passed, 0 failed"; a bad input crashes or aborts instead.
 */
#ifndef SY_FUZZ_STANDALONE_H
#define SY_FUZZ_STANDALONE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int
sy_fuzz_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0) {
		perror(path);
		return -1;
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	printf("ok   %s\n", path);
	return 0;
}

int
main(int argc, char **argv)
{
	int n = 0;

#ifdef SY_FUZZ_HAS_INIT
	LLVMFuzzerInitialize(&argc, &argv);
#endif
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		char path[4096];

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (sy_fuzz_run_file(argv[i]) < 0)
				return 1;
			n++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			perror(argv[i]);
			return 1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (sy_fuzz_run_file(path) < 0)
				return 1;
			n++;
		}
		closedir(d);
	}
	printf("%d passed, 0 failed\n", n);
	return 0;
}

#endif /* SY_FUZZ_STANDALONE_H */
