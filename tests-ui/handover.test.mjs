// Offline hand-over in the dashboard: a device without network exports a signed batch file;
// the supervisor imports it on the "Nhận tệp bàn giao" page. Importing again stores nothing
// new; a tampered file is refused. The file is signed here with Node's Ed25519 over the
// canonical bytes of API.md ("Canonical form and content hash") — the same rule as content
// hashes: RFC 8785 JCS of {format, device_id, exported_at, records} with every response in its
// canonical form — while the file itself keeps the client's own spelling (`.000Z` times).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startServer, apiOk, api, login, buildAnswers, buildRecord, launchBrowser, uiLogin, saveFailure,
  canonicalJson, canonicalResponse, canonicalTimestamp,
} from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

function signedFile(privateKey, deviceId, records) {
  const body = { format: 'sipas-batch/2', device_id: deviceId, exported_at: new Date().toISOString(), records };
  const payload = {
    ...body,
    exported_at: canonicalTimestamp(body.exported_at),
    records: records.map((r) => ({ content_hash: r.content_hash, response: canonicalResponse(r.response) })),
  };
  const signature = sign(null, Buffer.from(canonicalJson(payload), 'utf8'), privateKey).toString('base64');
  return { ...body, signature };
}

async function importFile(page, file) {
  await page.getByTestId('handover-file').setInputFiles(file);
  await page.getByTestId('handover-submit').click();
}

test('a supervisor imports a signed hand-over file once; again adds nothing; tampering is refused', async () => {
  const { page } = browser;
  try {
    // A device enrolled with an Ed25519 public key, offline with its assignments.
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const rawPublic = publicKey.export({ format: 'jwk' }).x; // base64url of the 32 raw bytes
    const publicB64 = Buffer.from(rawPublic, 'base64url').toString('base64');
    const enrol = await apiOk(server, 'POST', '/enrol', {
      body: { code: server.enrolmentCode, device_name: 'Máy không có mạng', public_key: publicB64 },
    });
    const pull = await apiOk(server, 'GET', '/pull?cursor=0', { token: enrol.token });
    const records = pull.assignments.slice(0, 3).map((a) => buildRecord(a, buildAnswers()));
    const file = signedFile(privateKey, enrol.device_id, records);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-handover-'));
    const good = path.join(dir, 'sipas-handover.json');
    fs.writeFileSync(good, JSON.stringify(file));
    const tampered = path.join(dir, 'sipas-handover-sua.json');
    const changed = structuredClone(file);
    changed.records[0].response.answers.A2 = 45;
    fs.writeFileSync(tampered, JSON.stringify(changed));

    await uiLogin(page, server, 'supervisor');
    await page.getByTestId('nav-handover').click();
    await page.getByRole('heading', { name: 'Nhận tệp bàn giao từ thiết bị' }).waitFor();

    // A tampered file: refused with the server's Vietnamese message, nothing stored.
    await importFile(page, tampered);
    await page.getByTestId('handover-error').waitFor();
    const problem = await page.getByTestId('handover-error').textContent();
    assert.match(problem, /Chữ ký của tệp không khớp/);
    assert.doesNotMatch(problem, /400/, 'no status or problem code shown');

    // The genuine file: 3 new records; the result file can be downloaded for the device.
    await importFile(page, good);
    await page.getByTestId('handover-summary').waitFor();
    assert.match(await page.getByTestId('handover-summary').textContent(), /Đã nhận 3 bản ghi mới, 0 bản ghi đã có/);
    const download = page.waitForEvent('download');
    await page.getByTestId('handover-reply').click();
    const saved = path.join(dir, 'ketqua.json');
    await (await download).saveAs(saved);
    const reply = JSON.parse(fs.readFileSync(saved, 'utf8'));
    assert.equal(reply.acks.length, 3);
    assert.ok(reply.acks.every((a) => a.status === 'accepted'));

    // Importing the same file again stores nothing new.
    await importFile(page, good);
    await page.getByTestId('handover-summary').filter({ hasText: '0 bản ghi mới, 3 bản ghi đã có' }).waitFor();

    // The server holds exactly the 3 records: the round's index counts 3 respondents.
    const sup = await login(server, 'supervisor');
    const index = await apiOk(server, 'GET', `/rounds/${server.roundId}/index?format=json`, { token: sup });
    const total = index.round_totals.find((c) => c.round_id === server.roundId);
    assert.equal(total.respondents, 3);
    // The page is not for surveyors.
    const r = await api(server, 'POST', '/handover', { token: enrol.token, body: file });
    assert.equal(r.status, 403);
  } catch (e) {
    await saveFailure(page, 'handover');
    throw e;
  }
});
