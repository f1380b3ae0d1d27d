// Every UI string of the dashboard comes from i18n.js, in Vietnamese and in English; the
// modules load nothing from outside, use no inline script or style and never parse HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './support.mjs';

const DIR = path.join(ROOT, 'crates', 'server', 'dashboard');

/** Every .js module of the dashboard, relative to its folder. */
function modules() {
  const top = fs.readdirSync(DIR).filter((f) => f.endsWith('.js'));
  const pages = fs.readdirSync(path.join(DIR, 'pages')).filter((f) => f.endsWith('.js')).map((f) => `pages/${f}`);
  return [...top, ...pages];
}

test('Vietnamese and English have the same keys, and every key used exists', async () => {
  const { STRINGS } = await import(path.join(DIR, 'i18n.js'));
  const { vi, en } = STRINGS;
  assert.deepEqual(Object.keys(en).sort(), Object.keys(vi).sort());
  for (const [k, v] of Object.entries(vi)) assert.equal(typeof en[k], typeof v, k);
  const used = new Set();
  for (const f of modules()) {
    const text = fs.readFileSync(path.join(DIR, f), 'utf8');
    for (const m of text.matchAll(/\bt\('([a-z0-9_.]+)'/g)) used.add(m[1]);
  }
  assert.ok(used.size > 300, `found ${used.size} keys`);
  for (const k of used) assert.ok(k in vi, `missing string ${k}`);
  // Keys built at run time.
  for (const k of ['role.admin', 'role.supervisor', 'role.surveyor', 'role.monitor', 'role.ministry',
    'review.state.pending', 'review.state.approved', 'review.state.rejected', 'review.state.all',
    'report.level.overall', 'report.level.group', 'report.level.criterion',
    'report.agg.mean_of_criteria', 'report.agg.pooled', 'spot.status.assigned', 'spot.status.done', 'spot.status.unassigned',
    'round.status.planned', 'round.status.open', 'round.status.closed',
    'unit.level.province', 'unit.level.commune', 'progress.by.agency', 'progress.by.unit', 'progress.by.surveyor',
    'progress.col.agency', 'progress.col.unit', 'progress.col.surveyor', 'catalogues.tab.units', 'catalogues.tab.agencies',
    'catalogues.tab.fields', 'catalogues.import.procedures', 'assignment.status.not_visited', 'assignment.status.collected',
    'quarantine.resolution.accepted', 'quarantine.resolution.dismissed', 'quarantine.reason.not_your_assignment',
    'quarantine.reason.clock', 'origin.walk_in', 'origin.replacement']) {
    assert.ok(k in vi, k);
  }
});

test('the pages load nothing from outside, use no inline script or style, and parse no HTML', () => {
  const html = fs.readFileSync(path.join(DIR, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(html, /<script>(?!<\/script>)|<style|style="| on[a-z]+="/i);
  assert.match(html, /<script type="module" src="main.js"><\/script>/);
  for (const f of [...modules(), 'style.css']) {
    const text = fs.readFileSync(path.join(DIR, f), 'utf8');
    assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org\/2000\/svg')|@import|\.innerHTML|\.outerHTML|insertAdjacentHTML|\beval\(|new Function/, f);
    if (f.endsWith('.js')) assert.match(text, /^\/\/ @ts-check\n/, `${f} starts with // @ts-check`);
  }
});

test('no response-shape guessing, no role lists for navigation, no raw status codes in the UI', () => {
  for (const f of modules()) {
    const text = fs.readFileSync(path.join(DIR, f), 'utf8');
    // One real shape per answer: no `a.x ?? a.y` / `a.x || a.y` between alternative field names.
    assert.doesNotMatch(text, /task\.id \?\? task\.task_id|key_items \|\| |listOf\(/, f);
    assert.doesNotMatch(text, /\$\{[\w.]*problem\.code\}|HTTP \$\{|\$\{[\w.]*\.status\}/, f);
  }
  const main = fs.readFileSync(path.join(DIR, 'main.js'), 'utf8');
  assert.doesNotMatch(main, /'(admin|supervisor|monitor|surveyor|ministry)'/, 'navigation comes from capabilities');
});
