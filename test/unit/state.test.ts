/**
 * The state file: written atomically (temp file in the same directory,
 * fsync, rename), read back equal, and a corrupt file reported with its
 * path and the position of the fault, and never overwritten.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFlow } from '../../src/flowspec';
import { deserializeState, DesiredState, jsonErrorPosition, serializeState, StateFileError, StateStore } from '../../src/mgmt/state';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-state-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sample(): DesiredState {
  return {
    ports: [
      { name: 'p1', devargs: 'net_tap0,iface=sy0', id: 1, adminUp: true },
      { name: 'p2', devargs: 'net_af_packet0,iface=veth1', id: 5, mtu: 9000, adminUp: false },
    ],
    tables: [{ id: 1, name: 'acl', miss: 'continue' }],
    flows: [
      parseFlow('table=0,priority=100,ip,in_port=1,nw_src=10.0.0.0/24,actions=goto_table:1'),
      parseFlow('table=1,priority=5,cookie=0x99,idle_timeout=10,send_flow_rem,tcp,tp_dst=80,actions=mod_vlan_vid:7,output:5'),
    ],
  };
}

describe('state file', () => {
  it('a missing file is an empty state', () => {
    expect(new StateStore(join(dir, 'none.json')).load()).toEqual({ ports: [], tables: [], flows: [] });
  });

  it('saves and loads back the same state', async () => {
    const store = new StateStore(join(dir, 'sub', 'state.json'));
    await store.save(sample());
    expect(store.load()).toEqual(sample());
    const doc = JSON.parse(readFileSync(join(dir, 'sub', 'state.json'), 'utf8'));
    expect(doc.version).toBe(1);
    expect(doc.flows[0]).toBe('table=0,priority=100,ip,in_port=1,nw_src=10.0.0.0/24,actions=goto_table:1');
  });

  it('writes a temporary file in the same directory, then renames it over the old one', async () => {
    const path = join(dir, 'state.json');
    await new StateStore(path).save({ ports: [], tables: [], flows: [] });
    const before = readFileSync(path, 'utf8');
    let seen: { tmp: string; tmpContent: string; target: string } | undefined;
    const store = new StateStore(path, {
      beforeRename: (tmp) => {
        seen = { tmp, tmpContent: readFileSync(tmp, 'utf8'), target: readFileSync(path, 'utf8') };
      },
    });
    await store.save(sample());
    expect(seen).toBeDefined();
    expect(join(seen!.tmp, '..')).toBe(dir);
    expect(seen!.tmpContent).toBe(serializeState(sample(), 1)); // a fresh store that did not load() counts from 0
    expect(seen!.target).toBe(before); // the old file stays whole until the rename
    expect(readFileSync(path, 'utf8')).toBe(serializeState(sample(), 1));
    expect(readdirSync(dir)).toEqual(['state.json']); // no temporary file left
  });

  it('a failure before the rename leaves the old file and no temporary file', async () => {
    const path = join(dir, 'state.json');
    await new StateStore(path).save(sample());
    const store = new StateStore(path, {
      beforeRename: () => {
        throw new Error('disk gone');
      },
    });
    await expect(store.save({ ports: [], tables: [], flows: [] })).rejects.toThrow('disk gone');
    expect(readFileSync(path, 'utf8')).toBe(serializeState(sample(), 1));
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('a corrupt file: refused with its path and the position of the fault, and kept', () => {
    const path = join(dir, 'state.json');
    const text = '{\n  "version": 1,\n  "ports": [ {"name": "p1",, } ]\n}\n';
    writeFileSync(path, text);
    let err: unknown;
    try {
      new StateStore(path).load();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateFileError);
    const se = err as StateFileError;
    expect(se.path).toBe(path);
    expect(se.position).toBe(text.indexOf(',,') + 1);
    expect(se.line).toBe(3);
    expect(se.column).toBe(text.split('\n')[2].indexOf(',,') + 2);
    expect(se.message).toContain(path);
    expect(se.message).toMatch(/line 3, column \d+, position \d+/);
    expect(se.message).toMatch(/left untouched/);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('a truncated or empty file is corrupt too', () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, '{"version": 1, "ports": [');
    expect(() => new StateStore(path).load()).toThrow(/position 25\)/);
    writeFileSync(path, '');
    expect(() => new StateStore(path).load()).toThrow(/the file is empty/);
  });

  it('valid JSON with a wrong shape names the element', () => {
    const bad = (doc: unknown) => () => deserializeState(JSON.stringify(doc), '/x/state.json');
    expect(bad([])).toThrow(/top level: expected an object/);
    expect(bad({ version: 2 })).toThrow(/version: expected 1/);
    expect(bad({ version: 1, ports: [{ name: 'p1', devargs: 'x', id: 0 }] })).toThrow(/ports\[0\]\.id: expected an integer/);
    expect(bad({ version: 1, ports: [{ name: 'p1', devargs: 'x', id: 1 }, { name: 'p1', devargs: 'y', id: 2 }] })).toThrow(/ports\[1\]\.name: port 'p1' appears twice/);
    expect(bad({ version: 1, tables: [{ id: 1, miss: 'explode' }] })).toThrow(/tables\[0\]\.miss/);
    expect(bad({ version: 1, flows: ['ip,nw_srcx=1,actions=drop'] })).toThrow(/flows\[0\]: unknown field 'nw_srcx'/);
    expect(bad({ version: 1, flows: [5] })).toThrow(/flows\[0\]: expected a string/);
  });

  it('jsonErrorPosition finds the first fault', () => {
    expect(jsonErrorPosition('{"a": [1, 2, {"b": null}], "c": "\\u00e9"}')).toBe(-1);
    expect(jsonErrorPosition('{"a": 1,}')).toBe(8);
    expect(jsonErrorPosition('{"a": tru}')).toBe(6);
    expect(jsonErrorPosition('[1 2]')).toBe(3);
    expect(jsonErrorPosition('"abc')).toBe(4);
    expect(jsonErrorPosition('{} x')).toBe(3);
    expect(jsonErrorPosition('{"a":"\\q"}')).toBe(6);
  });
});

describe('state journal', () => {
  const flow = (t: string) => parseFlow(t);
  const f1 = flow('table=0,priority=10,ip,actions=drop');
  const f2 = flow('table=0,priority=20,tcp,tp_dst=80,actions=output:2');
  const f3 = flow('table=1,priority=5,actions=drop');

  it('appends one record per change, and load() replays them over the file', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path);
    await store.save(sample()); // the whole file (no change given)
    const s = sample();
    s.flows = [...s.flows, f1, f2];
    await store.save(s, { flows: { put: [f1, f2], del: [] } });
    s.flows = s.flows.filter((f) => f !== f1);
    s.ports = [s.ports[0]];
    await store.save(s, { ports: true, flows: { put: [], del: [f1] } });
    const lines = readFileSync(`${path}.journal`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((r) => r.seq)).toEqual([2, 3]);
    expect(lines[1].del).toEqual(['table=0,priority=10,ip,actions=drop']);
    expect(new StateStore(path).load()).toEqual(s);
  });

  it('meters: in the file, journaled as the whole list, replayed; a bad one is named', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path);
    const s: DesiredState = { ...sample(), meters: [{ id: 1, unit: 'kbps', rate: 100000, burst: 1000, band: 'drop' }] };
    await store.save(s);
    expect(JSON.parse(readFileSync(path, 'utf8')).meters).toEqual([{ id: 1, unit: 'kbps', rate: 100000, burst: 1000, band: 'drop' }]);
    expect(new StateStore(path).load()).toEqual(s);
    s.meters = [...s.meters!, { id: 2, unit: 'pps', rate: 10, band: 'dscp_remark', dscp: 46 }];
    await store.save(s, { meters: true });
    s.meters = s.meters.slice(1);
    await store.save(s, { meters: true });
    const lines = readFileSync(`${path}.journal`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[1]).toEqual({ seq: 3, meters: [{ id: 2, unit: 'pps', rate: 10, band: 'dscp_remark', dscp: 46 }] });
    expect(new StateStore(path).load()).toEqual(s);
    const bad = (meters: unknown) => () => deserializeState(JSON.stringify({ version: 1, meters }), '/x/state.json');
    expect(bad([{ id: 1, rate: 0 }])).toThrow(/meters\[0\]\.rate: '0' is not valid: kbit\/s/);
    expect(bad([{ id: 1, rate: 5, band: 'explode' }])).toThrow(/meters\[0\]\.band: 'explode' is not one of drop, dscp_remark/);
    expect(bad([{ id: 1, rate: 5 }, { id: 1, rate: 6 }])).toThrow(/meters\[1\]\.id: meter 1 appears twice/);
  });

  it('mirrors: in the file, journaled as the whole list, replayed with the flows that name them; a bad one is named', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path);
    const m0 = { name: 'm0', id: 0, outPort: 2, src: [1], dst: [1] };
    const s: DesiredState = { ...sample(), mirrors: [m0] };
    await store.save(s);
    expect(JSON.parse(readFileSync(path, 'utf8')).mirrors).toEqual([m0]);
    expect(new StateStore(path).load()).toEqual(s);
    const m1 = { name: 'web', id: 1, outPort: 2, src: [], dst: [] };
    s.mirrors = [m0, m1];
    await store.save(s, { mirrors: true });
    // a batch as given, naming the mirror by name: replayed with the mirrors of its time
    const f = parseFlow('table=0,priority=7,tcp,actions=mirror:1,output:2');
    s.flows = [...s.flows, f];
    await store.save(s, { flowLines: ['table=0,priority=7,tcp,actions=mirror:web,output:2'], flows: { put: [f], del: [] } });
    s.mirrors = [m1];
    await store.save(s, { mirrors: true });
    const lines = readFileSync(`${path}.journal`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ seq: 2, mirrors: [m0, m1] });
    expect(lines[2]).toEqual({ seq: 4, mirrors: [m1] });
    expect(new StateStore(path).load()).toEqual(s);
    const bad = (mirrors: unknown) => () => deserializeState(JSON.stringify({ version: 1, mirrors }), '/x/state.json');
    expect(bad([{ name: 'm', id: 32, outPort: 1 }])).toThrow(/mirrors\[0\]\.id/);
    expect(bad([{ name: 'm', id: 1, outPort: 1, src: 'p1' }])).toThrow(/mirrors\[0\]\.src: expected up to 16 port ids/);
    expect(bad([{ name: 'm', id: 1, outPort: 1 }, { name: 'm', id: 2, outPort: 1 }])).toThrow(/mirrors\[1\]: mirror m \(2\) appears twice/);
  });

  it('folds the journal into the file once it outgrows it', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path, {}, 100);
    const s: DesiredState = { ports: [], tables: [], flows: [] };
    for (const f of [f1, f2, f3]) {
      s.flows = [...s.flows, f];
      await store.save(s, { flows: { put: [f], del: [] } });
    }
    // the file was rewritten with everything, and the journal emptied
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    expect(doc.flows.length + readFileSync(`${path}.journal`, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3);
    expect(new StateStore(path).load()).toEqual(s);
  });

  it('skips records the file already holds (a crash between writing the file and emptying the journal)', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path);
    const s: DesiredState = { ports: [], tables: [], flows: [f1] };
    await store.save(s, { flows: { put: [f1], del: [] } });
    const oldJournal = readFileSync(`${path}.journal`, 'utf8');
    s.flows = [f1, f2];
    await store.save(s); // whole file, seq 2, journal emptied
    writeFileSync(`${path}.journal`, oldJournal); // as if the truncation never happened
    const back = new StateStore(path).load();
    expect(back).toEqual(s);
  });

  it('sets a torn last record aside and says so', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path);
    const s: DesiredState = { ports: [], tables: [], flows: [f1] };
    await store.save(s, { flows: { put: [f1], del: [] } });
    const good = readFileSync(`${path}.journal`, 'utf8');
    writeFileSync(`${path}.journal`, good + '{"seq":2,"put":["table=0,prio');
    const again = new StateStore(path);
    expect(again.load()).toEqual(s);
    expect(again.warnings).toHaveLength(1);
    expect(again.warnings[0]).toMatch(/state\.json\.journal: the last record \(line 2, position \d+\) was cut short/);
    expect(readFileSync(`${path}.journal`, 'utf8')).toBe(good);
    const aside = readdirSync(dir).filter((n) => n.startsWith('state.json.journal.torn-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]), 'utf8')).toContain('"seq":2');
    // the store goes on appending after the good records
    s.flows = [f1, f2];
    await again.save(s, { flows: { put: [f2], del: [] } });
    expect(new StateStore(path).load()).toEqual(s);
  });

  it('refuses a damaged record before the last, naming the journal and the position', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path);
    const s: DesiredState = { ports: [], tables: [], flows: [] };
    for (const f of [f1, f2]) {
      s.flows = [...s.flows, f];
      await store.save(s, { flows: { put: [f], del: [] } });
    }
    const text = readFileSync(`${path}.journal`, 'utf8');
    writeFileSync(`${path}.journal`, text.replace('"seq":1', '"seq":1,,'));
    const err = (() => {
      try {
        new StateStore(path).load();
      } catch (e) {
        return e as StateFileError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(StateFileError);
    expect(err.path).toBe(`${path}.journal`);
    expect(err.position).toBe(0);
    expect(err.message).toMatch(/line 1/);
    writeFileSync(`${path}.journal`, text.replace('table=0,priority=20', 'table=0,priority=banana'));
    expect(() => new StateStore(path).load()).toThrow(/record at line 2: put\[0\]/);
    expect(readFileSync(`${path}.journal`, 'utf8')).toContain('banana'); // left as it was
  });
});

