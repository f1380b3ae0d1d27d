// The form expression language in the browser: a line-by-line mirror of crates/core/src/expr.rs
// (parse, evaluate) and of the form walk in crates/core/src/answer_validation.rs (formState), so
// the form reacts live. The Rust side stays the authority: review / submit / server ingest
// re-check everything. crates/core/tests/expr_parity.rs requires both to agree.
//
// `today` (formState option / evaluate context): the date of the draft's started_at,
// `started_at.slice(0, 10)` (UTC date), exactly what the server uses.
//
// Values: number | string | boolean; '' is the empty value. A multi-choice answer is its codes
// joined by single spaces.
(function () {
  'use strict';

  // name, min args, max args (Infinity: any number) — same table as expr::FUNCTIONS.
  const FUNCTIONS = {
    'selected': [2, 2], 'count-selected': [1, 1], 'string-length': [1, 1], 'if': [3, 3],
    'coalesce': [2, 2], 'not': [1, 1], 'int': [1, 1], 'number': [1, 1], 'string': [1, 1],
    'concat': [1, Infinity], 'round': [1, 2], 'today': [0, 0], 'contains': [2, 2],
    'starts-with': [2, 2], 'ends-with': [2, 2], 'date-diff-years': [2, 2], 'true': [0, 0],
    'false': [0, 0],
  };

  function ParseError(pos, vi, en) {
    const e = new Error(en);
    e.name = 'ParseError';
    e.pos = pos;
    e.vi = vi;
    e.en = en;
    return e;
  }

  const isDigit = (c) => c !== undefined && c >= '0' && c <= '9';
  const isAlpha = (c) => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  const isNameStart = (c) => isAlpha(c) || c === '_';
  const isNameChar = (c) => isAlpha(c) || isDigit(c) || c === '_';
  const isItemCode = (s) => /^[A-Za-z][A-Za-z0-9_-]*$/.test(s);
  // Rust char::is_whitespace (Unicode White_Space).
  const isSpace = (c) => /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(c);

  function tokText(t) {
    switch (t.t) {
      case 'num': return formatNumber(t.v);
      case 'str': return "'" + t.v + "'";
      case 'ref': return '${' + t.v + '}';
      case 'dot': return '.';
      case 'name': return t.v;
      case 'op': return t.v;
      case '(': return '(';
      case ')': return ')';
      default: return ',';
    }
  }

  function tokenize(src) {
    const chars = Array.from(src);
    const out = [];
    let i = 0;
    while (i < chars.length) {
      const c = chars[i];
      const start = i;
      if (isSpace(c)) { i += 1; continue; }
      if (isDigit(c) || (c === '.' && isDigit(chars[i + 1]))) {
        while (i < chars.length && isDigit(chars[i])) i += 1;
        if (i < chars.length && chars[i] === '.') {
          i += 1;
          while (i < chars.length && isDigit(chars[i])) i += 1;
        }
        out.push({ t: 'num', v: Number(chars.slice(start, i).join('')), pos: start });
        continue;
      }
      if (c === "'" || c === '"') {
        const len = chars.slice(i + 1).indexOf(c);
        if (len < 0) {
          throw ParseError(start,
            `Chuỗi bắt đầu tại vị trí ${start + 1} chưa có dấu nháy đóng.`,
            `The text starting at position ${start + 1} has no closing quote.`);
        }
        out.push({ t: 'str', v: chars.slice(i + 1, i + 1 + len).join(''), pos: start });
        i += len + 2;
        continue;
      }
      if (c === '$') {
        let code = null;
        if (chars[i + 1] === '{') {
          const len = chars.slice(i + 2).indexOf('}');
          if (len >= 0) code = chars.slice(i + 2, i + 2 + len).join('');
        }
        if (code !== null && isItemCode(code)) {
          i += Array.from(code).length + 3;
          out.push({ t: 'ref', v: code, pos: start });
          continue;
        }
        throw ParseError(start,
          `Tham chiếu tại vị trí ${start + 1} không hợp lệ: cần dạng \${MÃ_CÂU}.`,
          `Invalid reference at position ${start + 1}: use the form \${ITEM_CODE}.`);
      }
      if (isNameStart(c)) {
        i += 1;
        while (i < chars.length && (isNameChar(chars[i]) || (chars[i] === '-' && isAlpha(chars[i + 1])))) i += 1;
        const name = chars.slice(start, i).join('');
        if (name === 'and' || name === 'or' || name === 'div' || name === 'mod') out.push({ t: 'op', v: name, pos: start });
        else out.push({ t: 'name', v: name, pos: start });
        continue;
      }
      const next = chars[i + 1];
      let tok; let len = 1;
      if ((c === '!' || c === '<' || c === '>') && next === '=') { tok = { t: 'op', v: c + '=' }; len = 2; }
      else if ('=<>+-*'.includes(c)) tok = { t: 'op', v: c };
      else if (c === '(' || c === ')') tok = { t: c };
      else if (c === ',') tok = { t: ',' };
      else if (c === '.') tok = { t: 'dot' };
      else {
        throw ParseError(start,
          `Ký tự không hợp lệ '${c}' tại vị trí ${start + 1}.`,
          `Unexpected character '${c}' at position ${start + 1}.`);
      }
      tok.pos = start;
      out.push(tok);
      i += len;
    }
    return out;
  }

  const LEVELS = [['or'], ['and'], ['=', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', 'div', 'mod']];

  function parse(src) {
    const toks = tokenize(src);
    const end = Array.from(src).length;
    let at = 0;
    const peek = () => toks[at];
    const unexpected = () => {
      const t = toks[at];
      if (!t) {
        return ParseError(end,
          "Biểu thức kết thúc đột ngột (thiếu toán hạng hoặc dấu ')').",
          "The expression ends too early (an operand or ')' is missing).");
      }
      return ParseError(t.pos,
        `Không mong đợi '${tokText(t)}' tại vị trí ${t.pos + 1}.`,
        `Unexpected '${tokText(t)}' at position ${t.pos + 1}.`);
    };
    const closeParen = () => {
      const t = peek();
      if (t && t.t === ')') { at += 1; return; }
      const p = t ? t.pos : end;
      throw ParseError(p, `Thiếu dấu ')' tại vị trí ${p + 1}.`, `Missing ')' at position ${p + 1}.`);
    };
    function binary(level) {
      if (level === LEVELS.length) return unary();
      let left = binary(level + 1);
      for (;;) {
        const t = peek();
        if (!t || t.t !== 'op' || !LEVELS[level].includes(t.v)) return left;
        at += 1;
        const right = binary(level + 1);
        left = { k: 'bin', op: t.v, l: left, r: right };
      }
    }
    function unary() {
      const t = peek();
      if (t && t.t === 'op' && t.v === '-') { at += 1; return { k: 'neg', e: unary() }; }
      return primary();
    }
    function primary() {
      const t = peek();
      if (!t) throw unexpected();
      switch (t.t) {
        case 'num': at += 1; return { k: 'num', v: t.v };
        case 'str': at += 1; return { k: 'str', v: t.v };
        case 'ref': at += 1; return { k: 'ref', v: t.v };
        case 'dot': at += 1; return { k: 'cur' };
        case '(': { at += 1; const e = binary(0); closeParen(); return e; }
        case 'name': {
          at += 1;
          const n = peek();
          if (!n || n.t !== '(') return { k: 'attr', v: t.v };
          at += 1;
          const args = [];
          if (peek() && peek().t === ')') at += 1;
          else {
            for (;;) {
              args.push(binary(0));
              const s = peek();
              if (s && s.t === ',') at += 1;
              else { closeParen(); break; }
            }
          }
          checkCall(t.v, args.length, t.pos);
          return { k: 'call', f: t.v, args };
        }
        default: throw unexpected();
      }
    }
    const e = binary(0);
    if (at < toks.length) throw unexpected();
    return e;
  }

  function checkCall(name, n, pos) {
    if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, name)) {
      throw ParseError(pos, `Hàm không xác định '${name}' tại vị trí ${pos + 1}.`,
        `Unknown function '${name}' at position ${pos + 1}.`);
    }
    const [min, max] = FUNCTIONS[name];
    if (n >= min && n <= max) return;
    let vi; let en;
    if (min === max) { vi = `${min}`; en = `${min}`; }
    else if (max === Infinity) { vi = `ít nhất ${min}`; en = `at least ${min}`; }
    else { vi = `${min} hoặc ${max}`; en = `${min} or ${max}`; }
    throw ParseError(pos, `Hàm '${name}' cần ${vi} tham số, nhưng có ${n} (vị trí ${pos + 1}).`,
      `Function '${name}' takes ${en} argument(s) but got ${n} (position ${pos + 1}).`);
  }

  // ---- values ----

  // Rust f64 Display: shortest round-trip digits, never exponent form; -0 → "0".
  function formatNumber(n) {
    if (n === 0) return '0';
    const s = String(n);
    const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
    if (!m) return s;
    const [, sign, d, frac = '', expS] = m;
    const exp = Number(expS);
    const digits = d + frac;
    if (exp >= 0) {
      const intLen = exp + 1;
      if (digits.length <= intLen) return sign + digits + '0'.repeat(intLen - digits.length);
      return sign + digits.slice(0, intLen) + '.' + digits.slice(intLen);
    }
    return sign + '0.' + '0'.repeat(-exp - 1) + digits;
  }

  function fromAnswer(a) {
    if (a === undefined || a === null) return '';
    if (typeof a === 'number') return a;
    if (typeof a === 'string') return rustTrim(a) === '' ? '' : a;
    if (Array.isArray(a)) return a.join(' ');
    return '';
  }

  function rustTrim(s) {
    const chars = Array.from(s);
    let b = 0; let e = chars.length;
    while (b < e && isSpace(chars[b])) b += 1;
    while (e > b && isSpace(chars[e - 1])) e -= 1;
    return chars.slice(b, e).join('');
  }

  function toNum(v) {
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v === '') return null;
    const s = rustTrim(v);
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s)) return null;
    return Number(s);
  }

  function toText(v) {
    if (typeof v === 'number') return formatNumber(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    return v;
  }

  function truthy(v) {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    return v !== '';
  }

  function num(n) {
    if (!Number.isFinite(n)) return '';
    return n === 0 ? 0 : n;
  }

  function compareEq(a, b) {
    if (typeof a === 'boolean' || typeof b === 'boolean') return truthy(a) === truthy(b);
    const x = toNum(a); const y = toNum(b);
    if (x !== null && y !== null) return x === y;
    return toText(a) === toText(b);
  }

  // Code-point order like Rust's str comparison.
  function cmpText(a, b) {
    const x = Array.from(a); const y = Array.from(b);
    for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
      const p = x[i].codePointAt(0); const q = y[i].codePointAt(0);
      if (p !== q) return p < q ? -1 : 1;
    }
    return x.length === y.length ? 0 : (x.length < y.length ? -1 : 1);
  }

  function compareOrder(a, b) {
    if (a === '' || b === '') return null;
    const x = toNum(a); const y = toNum(b);
    if (x !== null && y !== null) return x < y ? -1 : (x > y ? 1 : 0);
    return cmpText(toText(a), toText(b));
  }

  function parseDate(s) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return null;
    const y = Number(s.slice(0, 4)); const m = Number(s.slice(5, 7)); const d = Number(s.slice(8, 10));
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    let days;
    if ([1, 3, 5, 7, 8, 10, 12].includes(m)) days = 31;
    else if ([4, 6, 9, 11].includes(m)) days = 30;
    else if (m === 2) days = leap ? 29 : 28;
    else return null;
    return d >= 1 && d <= days ? [y, m, d] : null;
  }

  const splitWs = (s) => rustTrim(s) === '' ? [] : Array.from(s).reduce((acc, c) => {
    if (isSpace(c)) { if (acc[acc.length - 1] !== '') acc.push(''); } else acc[acc.length - 1] += c;
    return acc;
  }, ['']).filter((t) => t !== '');

  function binary(op, a, b) {
    switch (op) {
      case 'or': return truthy(a) || truthy(b);
      case 'and': return truthy(a) && truthy(b);
      case '=': return compareEq(a, b);
      case '!=': return !compareEq(a, b);
      case '<': return compareOrder(a, b) === -1;
      case '<=': { const c = compareOrder(a, b); return c === -1 || c === 0; }
      case '>': return compareOrder(a, b) === 1;
      case '>=': { const c = compareOrder(a, b); return c === 1 || c === 0; }
      default: {
        const x = toNum(a); const y = toNum(b);
        if (x === null || y === null) return '';
        switch (op) {
          case '+': return num(x + y);
          case '-': return num(x - y);
          case '*': return num(x * y);
          case 'div': return y === 0 ? '' : num(x / y);
          default: return y === 0 ? '' : num(x % y);
        }
      }
    }
  }

  function call(f, args, ctx) {
    const arg = (i) => evaluate(args[i], ctx);
    const text = (i) => toText(arg(i));
    switch (f) {
      case 'true': return true;
      case 'false': return false;
      case 'today': return ctx.today ? String(ctx.today) : '';
      case 'not': return !truthy(arg(0));
      case 'if': return truthy(arg(0)) ? arg(1) : arg(2);
      case 'coalesce': { const v = arg(0); return v === '' ? arg(1) : v; }
      case 'selected': { const code = rustTrim(text(1)); return splitWs(text(0)).includes(code); }
      case 'count-selected': return splitWs(text(0)).length;
      case 'string-length': return Array.from(text(0)).length;
      case 'int': { const n = toNum(arg(0)); return n === null ? '' : num(Math.trunc(n)); }
      case 'number': { const n = toNum(arg(0)); return n === null ? '' : num(n); }
      case 'string': return text(0);
      case 'concat': return args.map((_, i) => text(i)).join('');
      case 'round': {
        const x = toNum(arg(0));
        if (x === null) return '';
        let digits = 0;
        if (args.length > 1) {
          const d = toNum(arg(1));
          if (d === null) return '';
          digits = Math.min(15, Math.max(0, Math.trunc(d)));
        }
        let f = 1;
        for (let i = 0; i < digits; i += 1) f *= 10;
        const y = Math.abs(x) * f;
        // f64::round: half away from zero (y >= 0 here).
        let r = Math.floor(y);
        if (y - r >= 0.5) r += 1;
        r /= f;
        return num(x < 0 ? -r : r);
      }
      case 'contains': return text(0).includes(text(1));
      case 'starts-with': return text(0).startsWith(text(1));
      case 'ends-with': return text(0).endsWith(text(1));
      case 'date-diff-years': {
        const a = parseDate(rustTrim(text(0))); const b = parseDate(rustTrim(text(1)));
        if (!a || !b) return '';
        let years = b[0] - a[0];
        const before = b[1] < a[1] || (b[1] === a[1] && b[2] < a[2]);
        const after = b[1] > a[1] || (b[1] === a[1] && b[2] > a[2]);
        if (years > 0 && before) years -= 1;
        else if (years < 0 && after) years += 1;
        return num(years);
      }
      default: return '';
    }
  }

  // evaluate(ast | source, {answers, current, attrs, today}) -> number | string | boolean ('' = empty)
  function evaluate(e, ctx) {
    if (typeof e === 'string') e = parse(e);
    ctx = ctx || {};
    switch (e.k) {
      case 'num': return num(e.v);
      case 'str': return e.v;
      case 'ref': return fromAnswer(ctx.answers ? ctx.answers[e.v] : undefined);
      case 'cur': return fromAnswer(ctx.current);
      case 'attr': {
        const a = ctx.attrs;
        return a && Object.prototype.hasOwnProperty.call(a, e.v) ? String(a[e.v]) : '';
      }
      case 'neg': { const n = toNum(evaluate(e.e, ctx)); return n === null ? '' : num(-n); }
      case 'bin': return binary(e.op, evaluate(e.l, ctx), evaluate(e.r, ctx));
      case 'call': return call(e.f, e.args, ctx);
      default: throw new Error('unknown expression node');
    }
  }

  // Value::to_answer: whole numbers stored as integers, the rest as text; '' not stored.
  function toAnswer(v) {
    if (v === '') return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 9007199254740991) return v;
    return toText(v);
  }

  // ---- relevance (JSON conditions as in ui/relevance.js, strings as expressions) ----

  const cache = new Map();
  function parsed(src) {
    if (!cache.has(src)) {
      let ast = null;
      try { ast = parse(src); } catch (_) { ast = null; }
      cache.set(src, ast);
    }
    return cache.get(src);
  }

  function valueIsAnswered(v) {
    if (typeof v === 'number') return true;
    if (typeof v === 'string') return v.trim() !== '';
    if (Array.isArray(v)) return v.length > 0;
    return false;
  }

  function conditionHolds(cond, answers, today) {
    if (typeof cond === 'string') {
      const ast = parsed(cond);
      return ast !== null && truthy(evaluate(ast, { answers, today }));
    }
    const R = (typeof window !== 'undefined' && window.SIPAS_RELEVANCE) || null;
    if ('all' in cond) return cond.all.every((c) => conditionHolds(c, answers, today));
    if ('any' in cond) return cond.any.some((c) => conditionHolds(c, answers, today));
    if ('not' in cond) return !conditionHolds(cond.not, answers, today);
    if (R) return R.conditionHolds(cond, answers);
    throw new Error('ui/relevance.js must be loaded before ui/expr.js');
  }

  function isRelevant(cond, answers, today) {
    return !cond || conditionHolds(cond, answers, today);
  }

  // ---- formState: mirror of answer_validation::form_state ----

  function rangeMessage(item, n) {
    const below = item.min !== undefined && item.min !== null && n < item.min;
    const above = item.max !== undefined && item.max !== null && n > item.max;
    if (!below && !above) return null;
    if (item.range_message) return labelPair(item.range_message);
    if (item.constraint_message) return labelPair(item.constraint_message);
    const hasMin = item.min !== undefined && item.min !== null;
    const hasMax = item.max !== undefined && item.max !== null;
    if (hasMin && hasMax) return { vi: `Giá trị phải từ ${item.min} đến ${item.max}.`, en: `The value must be between ${item.min} and ${item.max}.` };
    if (hasMin) return { vi: `Giá trị phải lớn hơn hoặc bằng ${item.min}.`, en: `The value must be at least ${item.min}.` };
    const max = hasMax ? item.max : 0;
    return { vi: `Giá trị phải nhỏ hơn hoặc bằng ${max}.`, en: `The value must be at most ${max}.` };
  }

  function labelPair(l) {
    return { vi: l.vi, en: l.en === undefined || l.en === null ? l.vi : l.en };
  }

  const CONSTRAINT_GENERIC = {
    vi: 'Câu trả lời không thỏa mãn điều kiện của câu hỏi.',
    en: 'The answer does not meet the condition of this question.',
  };
  const REQUIRED = { vi: 'Câu này bắt buộc phải trả lời.', en: 'This question is required.' };

  // formState(form, answers, {today, options}) -> {visible, values, errors, choices}
  //  visible: Set of codes of relevant items (calculate items are never visible);
  //  values: effective answers of relevant items plus computed calculations (stored shape);
  //  errors: {code: {vi, en, kind}} with kind 'constraint' | 'out_of_range' | 'too_long' | 'required';
  //  choices: {code: [option]} for every choice item, filtered by choice_filter, from
  //  item.options or options[item.choices_from].
  function formState(form, answers, opts) {
    opts = opts || {};
    const today = opts.today || undefined;
    const catalogues = opts.options || {};
    answers = answers || {};
    const effective = {};
    const visible = new Set();
    const errors = {};
    const choices = {};
    for (const group of form.groups) {
      for (const item of group.items) {
        const code = item.code;
        const relevant = isRelevant(group.relevant, effective, today) && isRelevant(item.relevant, effective, today);
        if (item.type === 'single_choice' || item.type === 'multi_choice') {
          const all = item.choices_from ? (catalogues[item.choices_from] || []) : (item.options || []);
          const filter = item.choice_filter ? parsed(item.choice_filter) : null;
          choices[code] = item.choice_filter
            ? all.filter((o) => filter !== null && truthy(evaluate(filter, { answers: effective, attrs: o.attrs || {}, today })))
            : all.slice();
        }
        if (!relevant) continue;
        if (item.type === 'calculate') {
          const ast = item.calculation ? parsed(item.calculation) : null;
          const v = ast ? toAnswer(evaluate(ast, { answers: effective, today })) : undefined;
          if (v !== undefined) effective[code] = v;
          continue;
        }
        visible.add(code);
        const value = answers[code];
        if (!valueIsAnswered(value)) {
          if (item.required) errors[code] = Object.assign({ kind: 'required' }, REQUIRED);
          continue;
        }
        let error = null;
        if (item.type === 'integer' && typeof value === 'number') {
          const m = rangeMessage(item, value);
          if (m) error = Object.assign({ kind: 'out_of_range' }, m);
        }
        if (!error && item.type === 'text' && typeof value === 'string' && item.max_length) {
          const len = Array.from(rustTrim(value).normalize('NFC')).length;
          if (len > item.max_length) {
            error = {
              kind: 'too_long',
              vi: `Câu trả lời quá dài: tối đa ${item.max_length} ký tự (hiện có ${len}).`,
              en: `The answer is too long: at most ${item.max_length} characters (now ${len}).`,
            };
          }
        }
        if (!error && item.constraint) {
          const ast = parsed(item.constraint);
          const ok = ast !== null && truthy(evaluate(ast, { answers: effective, current: value, today }));
          if (!ok) {
            const m = item.constraint_message ? labelPair(item.constraint_message) : CONSTRAINT_GENERIC;
            error = Object.assign({ kind: 'constraint' }, m);
          }
        }
        effective[code] = value;
        if (error) errors[code] = error;
      }
    }
    return { visible, values: effective, errors, choices };
  }

  const api = {
    parse, evaluate, formState, toAnswer, formatNumber, FUNCTIONS,
    value: { toNum, toText, truthy, fromAnswer },
  };
  if (typeof window !== 'undefined') window.SIPAS_EXPR = api;
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
})();
