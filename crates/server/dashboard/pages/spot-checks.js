// @ts-check
// Phúc tra: the supervisor draws spot-check tasks, gives them to monitors and sees the
// discrepancies per surveyor; a monitor sees its own tasks with the respondent's contact,
// re-asks the key questions and submits findings (final).
import { api, enc, errorText } from '../api.js';
import { L, t } from '../i18n.js';
import { empty, fill, fmtNum, fmtPct, h, loading, named, table, toast } from '../widgets.js';
import { flagText } from './review.js';
import { catalogueNames, getRound, getRounds, roundHead, usersOf } from './common.js';

/** @typedef {import('../types.js').SpotTask} SpotTask */
/** @typedef {import('../types.js').MonitorTask} MonitorTask */
/** @typedef {import('../types.js').KeyItem} KeyItem */
/** @typedef {import('../types.js').DiscrepancyRow} DiscrepancyRow */

/** A surveyor is flagged when more than this share of their re-checks disagree. */
const DISCREPANCY_THRESHOLD = 0.2;

/** What this tab submitted, shown back (the server keeps findings but does not send them). */
/** @type {Map<string, {visit_happened: boolean, answers: Record<string, any>, note: string|null}>} */
const submitted = new Map();

/** @param {string} status */
function statusBadge(status) {
  return h('span', { class: `badge ${status}`, testid: 'task-status', dataset: { status } }, t(`spot.status.${status}`));
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageSpotChecks(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const head = roundHead(round, 'spot', t('spot.heading'));
  const rate = h('input', { id: 'spot-rate', testid: 'spot-rate', type: 'number', min: 0, max: 100, step: 'any', value: '10', inputmode: 'decimal' });
  const seed = h('input', { id: 'spot-seed', testid: 'spot-seed', type: 'number', min: 0, step: 1, value: String(Math.floor(Math.random() * 1e9)), inputmode: 'numeric' });
  const minPer = h('input', { id: 'spot-min', testid: 'spot-min', type: 'number', min: 0, step: 1, value: '1', inputmode: 'numeric' });
  const createMsg = h('div', { testid: 'spot-result', 'aria-live': 'polite' });
  const createBtn = h('button', { type: 'submit', class: 'primary', testid: 'spot-create' }, t('spot.submit'));
  const createForm = h('form', { class: 'panel', testid: 'spot-form', novalidate: true },
    h('h3', null, t('spot.create')), h('p', { class: 'muted small' }, t('spot.create_intro')),
    h('div', { class: 'form-row' },
      h('div', { class: 'field' }, h('label', { for: 'spot-rate' }, t('spot.rate')), rate),
      h('div', { class: 'field' }, h('label', { for: 'spot-seed' }, t('spot.seed')), seed),
      h('div', { class: 'field' }, h('label', { for: 'spot-min' }, t('spot.min')), minPer)),
    createMsg, h('div', { class: 'actions' }, createBtn));
  const tasksBox = h('section', { testid: 'spot-tasks-section' }, h('h3', null, t('spot.tasks')), loading());
  const discBox = h('section', { testid: 'discrepancy-section' }, h('h3', null, t('spot.discrepancies')), loading());
  ctx.view.append(...head, createForm, tasksBox, discBox);
  const names = await catalogueNames(round.starts_on);

  const loadTasks = async () => {
    const [tasks, monitors, surveyors] = await Promise.all([
      /** @type {Promise<SpotTask[]>} */ (api(`/rounds/${enc(roundId)}/spot-checks`)),
      usersOf('monitor'),
      usersOf('surveyor'),
    ]);
    if (!ctx.alive()) return;
    const nameOf = (/** @type {import('../types.js').User[]} */ list, /** @type {string|null} */ id) => {
      const u = list.find((x) => x.id === id);
      return u ? (u.display_name || u.username) : t('review.unknown_user');
    };
    const rows = tasks.map((task, i) => {
      const status = task.state === 'done' ? 'done' : (task.monitor_id ? 'assigned' : 'unassigned');
      const cell = h('td', { testid: 'task-monitor' });
      const msg = h('span', { class: 'small', 'aria-live': 'polite', testid: 'assign-message' });
      if (status === 'done') {
        cell.append(nameOf(monitors, task.monitor_id));
      } else if (monitors.length === 0) {
        cell.append(h('span', { class: 'muted' }, t('spot.no_monitors')));
      } else {
        const sel = h('select', { testid: 'assign-monitor', 'aria-label': t('spot.choose_monitor') },
          h('option', { value: '' }, t('spot.choose_monitor')),
          monitors.map((m) => h('option', { value: m.id, selected: m.id === task.monitor_id }, m.display_name || m.username)));
        const btn = h('button', { type: 'button', testid: 'assign-button' }, t('spot.assign'));
        btn.addEventListener('click', async () => {
          msg.replaceChildren();
          if (!sel.value) { sel.focus(); return; }
          btn.disabled = true;
          try {
            await api(`/spot-checks/${enc(task.task_id)}/assign`, { method: 'POST', body: { monitor_id: sel.value } });
            if (!ctx.alive()) return;
            await loadTasks();
            const m = tasksBox.querySelector(`tr[data-task-id="${CSS.escape(task.task_id)}"] [data-testid="assign-message"]`);
            if (m) fill(m, h('span', { class: 'notice small' }, t('spot.assigned_ok')));
          } catch (e) {
            if (/** @type {any} */ (e).handled || !ctx.alive()) return;
            fill(msg, h('span', { class: 'error', testid: 'assign-error' }, errorText(e)));
            btn.disabled = false;
          }
        });
        cell.append(h('div', { class: 'actions' }, sel, btn));
      }
      cell.append(msg);
      return h('tr', { testid: 'spot-task', dataset: { taskId: task.task_id, status } },
        h('td', null, t('spot.task_n', i + 1)),
        h('td', null, h('a', { href: `#/responses/${enc(task.response_id)}/${enc(task.revision)}` }, t('spot.open_response')),
          task.flagged ? [' ', h('span', { class: 'badge flag', title: (task.quality_flags || []).map(flagText).join('; ') }, t('spot.flagged_task'))] : null),
        h('td', null, nameOf(surveyors, task.surveyor_id)),
        h('td', null, named(names.unit.get(task.unit_code), task.unit_code)),
        cell,
        h('td', null, statusBadge(status), task.agreement_rate !== null && task.agreement_rate !== undefined ? h('div', { class: 'small muted' }, t('spot.agreement', fmtPct(task.agreement_rate))) : null));
    });
    fill(tasksBox, h('h3', null, t('spot.tasks')),
      tasks.length === 0 ? empty(t('spot.tasks_empty'), 'spot-tasks-empty')
        : table('spot-tasks', [t('spot.task'), t('spot.response'), t('spot.surveyor'), t('spot.unit'), t('spot.monitor'), t('spot.status')], rows));
  };

  const loadDiscrepancies = async () => {
    /** @type {DiscrepancyRow[]} */
    const list = await api(`/rounds/${enc(roundId)}/discrepancies?threshold=${DISCREPANCY_THRESHOLD}`);
    if (!ctx.alive()) return;
    const rows = list.map((d) => h('tr', { testid: 'discrepancy-row', class: d.flagged ? 'flagged' : null, dataset: { flagged: String(d.flagged) } },
      h('td', null, d.surveyor_name || t('review.unknown_user')),
      h('td', { class: 'num' }, fmtNum(d.checked)),
      h('td', { class: 'num' }, fmtNum(d.discrepant)),
      h('td', { class: 'num' }, fmtNum(d.inconclusive)),
      h('td', { class: 'num', testid: 'discrepancy-rate' }, fmtPct(d.rate)),
      h('td', null, d.flagged ? h('span', { class: 'badge flag', testid: 'discrepancy-flag' }, t('spot.flagged')) : t('common.no'))));
    fill(discBox, h('h3', null, t('spot.discrepancies')),
      h('p', { class: 'muted small' }, t('spot.disc_intro'), ' ', t('spot.threshold', fmtNum(100 * DISCREPANCY_THRESHOLD, 0))),
      list.length === 0 ? empty(t('spot.disc_empty'), 'discrepancy-empty')
        : table('discrepancy-table', [t('spot.surveyor'), { text: t('spot.checked'), class: 'num' }, { text: t('spot.discrepant'), class: 'num' },
          { text: t('spot.inconclusive'), class: 'num' }, { text: t('spot.rate_col'), class: 'num' }, t('spot.flagged')], rows));
  };

  createForm.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    createMsg.replaceChildren();
    const r = Number(rate.value);
    const s = seed.value.trim();
    const m = Number(minPer.value || 0);
    if (!Number.isFinite(r) || r < 0 || r > 100 || rate.value.trim() === '') {
      createMsg.append(h('p', { class: 'error', role: 'alert' }, t('spot.bad_rate')));
      return;
    }
    if (!/^\d+$/.test(s) || !Number.isInteger(m) || m < 0) {
      createMsg.append(h('p', { class: 'error', role: 'alert' }, t('spot.bad_seed')));
      return;
    }
    createBtn.disabled = true;
    try {
      const res = await api(`/rounds/${enc(roundId)}/spot-checks`, { method: 'POST', body: { rate: r / 100, seed: Number(s), min_per_surveyor: m } });
      if (!ctx.alive()) return;
      createMsg.append(h('p', { class: 'notice', testid: 'spot-created' }, t('spot.created', res.created)));
      await loadTasks();
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      createMsg.append(h('p', { class: 'error', role: 'alert', testid: 'spot-error' }, errorText(e)));
    } finally {
      createBtn.disabled = false;
    }
  });

  const [tr, dr] = await Promise.allSettled([loadTasks(), loadDiscrepancies()]);
  if (!ctx.alive()) return;
  if (tr.status === 'rejected' && !tr.reason.handled) fill(tasksBox, h('h3', null, t('spot.tasks')), h('p', { class: 'error' }, errorText(tr.reason)));
  if (dr.status === 'rejected' && !dr.reason.handled) fill(discBox, h('h3', null, t('spot.discrepancies')), h('p', { class: 'error' }, errorText(dr.reason)));
}

// ---------- monitor: my tasks ----------

/** @param {KeyItem} item @param {string} prefix */
function answerInput(item, prefix) {
  const id = `${prefix}-${item.code}`;
  const testid = `key-${item.code}`;
  const choices = (/** @type {{value: any, label: any}[]} */ opts) => h('select', { id, testid },
    h('option', { value: '' }, t('monitor.choose')),
    opts.map((o) => h('option', { value: String(o.value) }, item.type === 'rating' ? `${o.value} – ${L(o.label)}` : L(o.label))));
  switch (item.type) {
    case 'single_choice': return choices(item.options || []);
    case 'rating': {
      const sc = item.scale || { points: [] };
      return choices([...sc.points, ...(sc.no_answer ? [sc.no_answer] : [])]);
    }
    case 'integer': return h('input', { id, testid, type: 'number', inputmode: 'numeric', min: item.min, max: item.max, step: 1 });
    case 'date': return h('input', { id, testid, type: 'date' });
    case 'multi_choice': return h('div', { id, testid, dataset: { multi: '1' } },
      (item.options || []).map((o) => h('label', { class: 'choice' }, h('input', { type: 'checkbox', value: String(o.value) }), L(o.label))));
    default: return h('input', { id, testid, type: 'text', maxlength: item.max_length });
  }
}

/** @param {KeyItem} item @param {HTMLElement} input */
function readAnswer(item, input) {
  if (item.type === 'multi_choice') {
    const vals = [...input.querySelectorAll('input:checked')].map((c) => /** @type {HTMLInputElement} */ (c).value);
    return vals.length ? vals : undefined;
  }
  const v = /** @type {HTMLInputElement} */ (input).value.trim();
  if (v === '') return undefined;
  if (item.type === 'integer' || item.type === 'rating') return Number.parseInt(v, 10);
  return v.normalize('NFC');
}

/** @param {KeyItem} item @param {any} value */
function answerText(item, value) {
  const opt = (/** @type {any} */ v) => {
    const o = (item.options || []).find((x) => String(x.value) === String(v));
    return o ? L(o.label) : String(v);
  };
  if (item.type === 'single_choice') return opt(value);
  if (item.type === 'multi_choice') return (Array.isArray(value) ? value : [value]).map(opt).join('; ');
  if (item.type === 'rating') {
    const sc = item.scale;
    const p = sc ? [...sc.points, ...(sc.no_answer ? [sc.no_answer] : [])].find((x) => x.value === value) : null;
    return p ? `${value} – ${L(p.label)}` : String(value);
  }
  return String(value);
}

/** @param {MonitorTask} task @param {Map<string, string>} roundNames @param {Map<string, string>} unitNames */
function taskHeader(task, roundNames, unitNames) {
  return h('p', { class: 'small muted' },
    `${t('monitor.round')}: ${roundNames.get(task.round_id) || task.round_id} · `,
    `${t('monitor.unit')}: ${unitNames.get(task.unit_code) || task.unit_code}`,
    task.procedure ? ` · ${t('monitor.procedure')}: ${task.procedure}` : '');
}

/** @param {import('../main.js').Ctx} ctx @param {MonitorTask} task @param {number} index @param {() => Promise<void>} reload @param {Map<string, string>} roundNames @param {Map<string, string>} unitNames */
function taskCard(ctx, task, index, reload, roundNames, unitNames) {
  const done = task.state === 'done';
  const card = h('li', { class: `card${done ? ' done' : ''}`, testid: 'monitor-task', dataset: { taskId: task.task_id, done: String(done) } },
    h('h3', null, t('monitor.task', index + 1)), taskHeader(task, roundNames, unitNames));
  if (task.contact) {
    const c = task.contact;
    card.append(h('div', { class: 'contact', testid: 'task-contact' },
      h('p', { class: 'small muted' }, t('monitor.contact')),
      h('p', { class: 'contact-name', testid: 'contact-name' }, c.name),
      c.address ? h('p', { testid: 'contact-address' }, `${t('monitor.address')}: ${c.address}`) : null,
      c.phone ? h('p', null, `${t('monitor.phone')}: `, h('a', { href: `tel:${c.phone}`, testid: 'contact-phone', 'aria-label': t('monitor.call', c.phone) }, c.phone)) : null));
  }
  if (done) {
    const r = submitted.get(task.task_id);
    const headP = h('p', null, h('span', { class: 'badge done', testid: 'task-done' }, t('monitor.done')), ' ', h('span', { class: 'muted small' }, t('monitor.final')));
    card.append(h('section', { testid: 'task-findings' }, headP, r ? h('dl', { class: 'findings' },
      h('dt', null, t('monitor.visit')), h('dd', { testid: 'finding-visit' }, r.visit_happened ? t('common.yes') : t('common.no')),
      task.key_items.map((it) => [
        h('dt', null, h('span', { class: 'q-code' }, it.code), it.label_vi),
        h('dd', { testid: `finding-${it.code}` }, r.answers[it.code] === undefined ? t('monitor.not_asked') : answerText(it, r.answers[it.code])),
      ]),
      r.note ? [h('dt', null, t('monitor.note')), h('dd', { testid: 'finding-note' }, r.note)] : null) : null));
    return card;
  }
  const prefix = `task-${task.task_id}`;
  const visitName = `${prefix}-visit`;
  const yes = h('input', { type: 'radio', name: visitName, value: 'yes', testid: 'visit-yes' });
  const no = h('input', { type: 'radio', name: visitName, value: 'no', testid: 'visit-no' });
  /** @type {[KeyItem, HTMLElement][]} */
  const inputs = task.key_items.map((it) => [it, answerInput(it, prefix)]);
  const keyBox = h('fieldset', { testid: 'key-items' }, h('legend', null, t('monitor.key_items')),
    inputs.map(([it, input]) => h('div', { class: 'field' },
      h(it.type === 'multi_choice' ? 'span' : 'label', { class: 'label', for: it.type === 'multi_choice' ? null : input.id }, h('span', { class: 'q-code' }, it.code), it.label_vi),
      input)));
  const toggleKeys = () => { keyBox.disabled = no.checked; };
  yes.addEventListener('change', toggleKeys);
  no.addEventListener('change', toggleKeys);
  const note = h('textarea', { id: `${prefix}-note`, testid: 'task-note', rows: 2, placeholder: t('monitor.note_ph') });
  const msg = h('div', { 'aria-live': 'polite', testid: 'task-message' });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'task-submit' }, t('monitor.submit'));
  const form = h('form', { novalidate: true, testid: 'task-form' },
    h('fieldset', null, h('legend', null, t('monitor.visit')),
      h('label', { class: 'choice' }, yes, t('monitor.visit_yes')),
      h('label', { class: 'choice' }, no, t('monitor.visit_no'))),
    keyBox,
    h('div', { class: 'field' }, h('label', { for: `${prefix}-note` }, t('monitor.note')), note),
    msg, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    if (!yes.checked && !no.checked) {
      msg.append(h('p', { class: 'error', role: 'alert' }, t('monitor.need_visit')));
      return;
    }
    /** @type {Record<string, any>} */
    const answers = {};
    if (yes.checked) {
      for (const [it, input] of inputs) {
        const v = readAnswer(it, input);
        if (v !== undefined && !(typeof v === 'number' && Number.isNaN(v))) answers[it.code] = v;
      }
      if (inputs.length && Object.keys(answers).length === 0) {
        msg.append(h('p', { class: 'error', role: 'alert' }, t('monitor.need_answers')));
        return;
      }
    }
    submit.disabled = true;
    try {
      const body = { visit_happened: yes.checked, answers, note: note.value.trim().normalize('NFC') || null };
      await api(`/monitor/tasks/${enc(task.task_id)}/result`, { method: 'POST', body });
      submitted.set(task.task_id, body);
      if (!ctx.alive()) return;
      toast('notice', t('monitor.submitted'));
      await reload();
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      msg.append(h('p', { class: 'error', role: 'alert', testid: 'task-error' }, errorText(e)));
      submit.disabled = false;
    }
  });
  card.append(form);
  return card;
}

/** @param {import('../main.js').Ctx} ctx */
export async function pageMonitor(ctx) {
  const heading = [h('h2', null, t('monitor.heading')), h('p', { class: 'muted' }, t('monitor.intro'))];
  ctx.view.append(...heading, loading());
  const [rounds, names] = await Promise.all([getRounds().catch(() => []), catalogueNames().catch(() => ({ unit: new Map(), agency: new Map() }))]);
  /** @type {Map<string, string>} */
  const roundNames = new Map(rounds.map((r) => /** @type {[string, string]} */ ([r.id, r.name])));
  const load = async () => {
    /** @type {MonitorTask[]} */
    const tasks = await api('/monitor/tasks');
    if (!ctx.alive()) return;
    fill(ctx.view, ...heading,
      tasks.length === 0 ? empty(t('monitor.empty'), 'monitor-empty')
        : h('ul', { class: 'cards', testid: 'monitor-tasks' }, tasks.map((task, i) => taskCard(ctx, task, i, load, roundNames, names.unit))));
  };
  await load();
}
