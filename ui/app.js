// SIPAS Field UI. Talks to the Rust side only through Tauri commands.
(function () {
  'use strict';
  const I18N = window.SIPAS_I18N;
  let lang = localStorage.getItem('sipas.lang') || 'vi';
  let forms = [];

  const t = (key, ...args) => {
    const v = (I18N[lang] && I18N[lang][key]) ?? I18N.vi[key];
    return typeof v === 'function' ? v(...args) : v;
  };
  const label = (l) => (lang === 'en' && l && l.en) ? l.en : (l ? l.vi : '');
  const invoke = (cmd, args) => window.__TAURI__.core.invoke(cmd, args);
  const $ = (id) => document.getElementById(id);

  function applyStatic() {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $('lang-toggle').textContent = lang === 'vi' ? 'EN' : 'VI';
  }

  function renderForms() {
    const ul = $('forms');
    ul.replaceChildren();
    for (const f of forms) {
      const li = document.createElement('li');
      li.className = 'card';
      li.dataset.formId = f.form_id;
      const h = document.createElement('h3');
      h.textContent = lang === 'en' && f.title_en ? f.title_en : f.title_vi;
      const p = document.createElement('p');
      p.textContent = `${f.form_id}@${f.version} · ${t('forms.items', f.groups, f.items)}`;
      li.append(h, p);
      li.addEventListener('click', () => openForm(f));
      ul.append(li);
    }
    $('status').textContent = t('forms.count', forms.length);
  }

  async function openForm(f) {
    const form = await invoke('get_form', { formId: f.form_id, version: f.version });
    $('form-title').textContent = label(form.title);
    const ol = $('groups');
    ol.replaceChildren();
    for (const g of form.groups) {
      const li = document.createElement('li');
      li.textContent = `${label(g.title)} (${t('group.items', g.items.length)})`;
      ol.append(li);
    }
    $('forms-section').hidden = true;
    $('form-detail').hidden = false;
  }

  async function load() {
    try {
      forms = await invoke('list_forms');
      renderForms();
    } catch (e) {
      $('status').textContent = t('forms.error', e);
    }
  }

  $('lang-toggle').addEventListener('click', () => {
    lang = lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('sipas.lang', lang);
    applyStatic();
    renderForms();
  });
  $('back').addEventListener('click', () => {
    $('form-detail').hidden = true;
    $('forms-section').hidden = false;
  });

  applyStatic();
  load();
})();
