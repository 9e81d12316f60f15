import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsersFile } from '@fleetmind/broker';

t.test('users are added, verified, listed, removed and survive a save/load round trip', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'users.json');
  const file = await UsersFile.load(path, { createIfMissing: true });
  await file.add({ username: 'a1', role: 'agent', fleet: 'f1', agent: 'a1' }, 'pass-word-1');
  await file.add({ username: 'ops', role: 'admin' }, 'pass-word-2');
  await file.save();
  t.equal(statSync(path).mode & 0o777, 0o600, 'written readable by the owner only');
  const text = readFileSync(path, 'utf8');
  t.notMatch(text, /pass-word/, 'no plain passwords on disk');

  const loaded = await UsersFile.load(path);
  t.same(loaded.list(), [
    { username: 'a1', role: 'agent', fleet: 'f1', agent: 'a1' },
    { username: 'ops', role: 'admin', fleet: undefined, agent: undefined },
  ]);
  t.same((await loaded.verify('a1', 'pass-word-1')).principal, { username: 'a1', role: 'agent', fleet: 'f1', agent: 'a1' });
  t.same(await loaded.verify('a1', 'pass-word-2'), { principal: null, reason: 'bad_password' });
  t.same(await loaded.verify('nobody', 'pass-word-1'), { principal: null, reason: 'unknown_user' });
  loaded.remove('a1');
  t.throws(() => loaded.remove('a1'), { message: /no user "a1"/ });
  await loaded.save();
  t.same((await UsersFile.load(path)).list().map((u) => u.username), ['ops']);
});

t.test('two users with the same password get different salts and hashes', async (t) => {
  const file = await UsersFile.load('/nonexistent/users.json', { createIfMissing: true });
  await file.add({ username: 'x', role: 'admin' }, 'same-password');
  await file.add({ username: 'y', role: 'admin' }, 'same-password');
  const raw = (file as unknown as { users: { salt: string; hash: string }[] }).users;
  t.not(raw[0].salt, raw[1].salt);
  t.not(raw[0].hash, raw[1].hash);
});

t.test('bad users and bad files are refused with the field that is wrong', async (t) => {
  const file = await UsersFile.load('/nonexistent/users.json', { createIfMissing: true });
  await t.rejects(file.add({ username: 'a', role: 'agent', fleet: 'f1' }, 'long-enough'), { message: /agent: an agent user needs an agent id/ });
  await t.rejects(file.add({ username: 'w', role: 'world' }, 'long-enough'), { message: /fleet: a world user needs a fleet/ });
  await t.rejects(file.add({ username: 'bad/name', role: 'admin' }, 'long-enough'), { message: /username: must be 1-64 characters/ });
  await t.rejects(file.add({ username: 'ok', role: 'admin' }, 'short'), { message: /at least 8 characters/ });
  await file.add({ username: 'ok', role: 'admin' }, 'long-enough');
  await t.rejects(file.add({ username: 'ok', role: 'admin' }, 'long-enough'), { message: /already exists/ });

  const dir = mkdtempSync(join(tmpdir(), 'fm-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"version":1,"users":[{"username":"a","role":"pilot"}]}');
  await t.rejects(UsersFile.load(bad), { message: /users\.0\.role/ });
  writeFileSync(bad, 'not json');
  await t.rejects(UsersFile.load(bad), { message: /not valid JSON/ });
  await t.rejects(UsersFile.load(join(dir, 'missing.json')), { message: /cannot read users file/ });
});
