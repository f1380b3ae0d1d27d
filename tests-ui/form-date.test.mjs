// Date input of the app's form screen (ui/form.js): what a surveyor may type, what is stored
// (ISO YYYY-MM-DD) and how it is shown back (dd/mm/yyyy). The stored value is judged again by
// the Rust check on every save; this is only the reading of what was typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { ROOT } from './support.mjs';

function loadForm() {
  const window = { SIPAS_RELEVANCE: {} };
  vm.runInNewContext(fs.readFileSync(path.join(ROOT, 'ui', 'form.js'), 'utf8'), { window });
  return window.SIPAS_FORM;
}

test('day-first dates and ISO are read; stored as ISO, shown as dd/mm/yyyy', () => {
  const F = loadForm();
  for (const typed of ['15/03/2026', '15-3-2026', '15.3.2026', ' 15 / 3 / 2026 ', '2026-03-15', '2026-3-15']) {
    assert.deepEqual({ ...F.parseDate(typed) }, { iso: '2026-03-15' }, typed);
  }
  assert.deepEqual({ ...F.parseDate('29/02/2028') }, { iso: '2028-02-29' }, 'leap day');
  assert.deepEqual({ ...F.parseDate('') }, { iso: null }, 'blank clears');
  assert.equal(F.formatDate('2026-03-15'), '15/03/2026');
  assert.equal(F.formatDate(''), '');
});

test('impossible or unreadable dates are refused with a reason', () => {
  const F = loadForm();
  for (const typed of ['31/02/2026', '29/02/2026', '00/01/2026', '15/13/2026', '2026-02-30']) {
    assert.equal(F.parseDate(typed).error, 'calendar', typed);
  }
  for (const typed of ['15/03/26', '15 March 2026', '2026/03', 'abc', '15/03/2026/1', '03/2026']) {
    assert.equal(F.parseDate(typed).error, 'format', typed);
  }
});
