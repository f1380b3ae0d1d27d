// Every UI string of the dashboard comes from i18n.js, in Vietnamese and in English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { ROOT } from './support.mjs';

const DIR = path.join(ROOT, 'crates', 'server', 'dashboard');

function catalogue() {
  const sandbox = { window: {} };
  vm.runInNewContext(fs.readFileSync(path.join(DIR, 'i18n.js'), 'utf8'), sandbox);
  return sandbox.window.SIPAS_DASH_I18N;
}

test('Vietnamese and English have the same keys, and every key used exists', () => {
  const { vi, en } = catalogue();
  assert.deepEqual(Object.keys(en).sort(), Object.keys(vi).sort());
  for (const [k, v] of Object.entries(vi)) assert.equal(typeof en[k], typeof v, k);
  const app = fs.readFileSync(path.join(DIR, 'app.js'), 'utf8');
  const used = new Set([...app.matchAll(/\bt\('([a-z0-9_.]+)'/g)].map((m) => m[1]));
  assert.ok(used.size > 100, `found ${used.size} keys`);
  for (const k of used) assert.ok(k in vi, `missing string ${k}`);
  // Keys built at run time: roles, review states, report levels and aggregation rules.
  for (const k of ['role.admin', 'role.supervisor', 'role.surveyor', 'role.monitor',
    'review.state.pending', 'review.state.approved', 'review.state.rejected', 'review.state.all',
    'report.level.overall', 'report.level.group', 'report.level.criterion',
    'report.agg.mean_of_criteria', 'report.agg.pooled', 'spot.status.assigned', 'spot.status.done']) {
    assert.ok(k in vi, k);
  }
});

test('the pages load nothing from outside and use no inline script or style', () => {
  const html = fs.readFileSync(path.join(DIR, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(html, /<script>(?!<\/script>)|<style|style="| on[a-z]+="/i);
  for (const f of ['app.js', 'style.css']) {
    const text = fs.readFileSync(path.join(DIR, f), 'utf8');
    assert.doesNotMatch(text, /https?:\/\/|@import|\.innerHTML|\.outerHTML|insertAdjacentHTML|\beval\(|new Function/, f);
  }
});
