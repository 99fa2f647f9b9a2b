// page_memory.test.mjs — a page of contacts (20 rows of ~10 KB each, read
// into one block) is served from memory the process already holds: after a
// warm-up, listing and searching fault in (next to) no new pages a request.
// With glibc's mmap threshold left at 128 KB while the trim threshold is set,
// each page was mapped, faulted in and unmapped again: ~60 page faults and
// most of the request's CPU.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, stopAllAfter, uniqueMobile, BIN,
} from './lib/harness.mjs';

let dir, server, admin;
stopAllAfter(() => [server], () => dir);

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
  for (let i = 0; i < 25; i++) await createContact(server, admin, { name: `Paged ${i}`, mobile: uniqueMobile('135') });
});

function minorFaults(pid) {
  // after the command's parentheses: state is field 3, minflt field 10
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

test('listing and searching pages of 20 contacts fault in no new memory once warm',
  { skip: BIN.includes('build-asan') && 'the sanitizer\'s allocator maps blocks this large itself' }, async () => {
    const paths = ['/v1/contacts?page=1&page_size=20', '/v1/contacts?page=1&page_size=20&keyword=paged'];
    for (const p of paths) {
      for (let i = 0; i < 30; i++) assert.equal(assertOk(await api(server, 'GET', p, { key: admin }), 200).items.length, 20);
      const before = minorFaults(server.proc.pid);
      const n = 100;
      for (let i = 0; i < n; i++) assertOk(await api(server, 'GET', p, { key: admin }), 200);
      const perRequest = (minorFaults(server.proc.pid) - before) / n;
      assert.ok(perRequest < 5, `${p}: ${perRequest} page faults a request`);
    }
  });
