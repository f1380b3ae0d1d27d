// A tiny XLSX reader for the tests (no npm package): unzips with node:zlib and reads the
// workbook's sheet names, shared strings and cell values. Enough for rust_xlsxwriter output.
import zlib from 'node:zlib';

/** The files of a ZIP archive (stored or deflated), by name. @param {Buffer} buf */
export function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a ZIP archive');
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error('bad central directory');
    const method = buf.readUInt16LE(off + 10);
    const size = buf.readUInt32LE(off + 20);
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    const local = buf.readUInt32LE(off + 42);
    const name = buf.toString('utf8', off + 46, off + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    files.set(name, method === 0 ? data : zlib.inflateRawSync(data));
    off += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** Column letters → 0-based index. @param {string} letters */
const colIndex = (letters) => [...letters].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0) - 1;

/** Reads a workbook: { names, sheet(name) → rows of cell texts ('' when empty) }. @param {Buffer} buf */
export function readXlsx(buf) {
  const files = unzip(buf);
  const text = (n) => (files.has(n) ? files.get(n).toString('utf8') : '');
  const names = [...text('xl/workbook.xml').matchAll(/<sheet [^>]*name="([^"]*)"/g)].map((m) => unescape(m[1]));
  const shared = [...text('xl/sharedStrings.xml').matchAll(/<si>([\s\S]*?)<\/si>/g)]
    .map((m) => unescape([...m[1].matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((x) => x[1]).join('')));
  return {
    names,
    sheet(name) {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`no sheet ${name}`);
      const xml = text(`xl/worksheets/sheet${i + 1}.xml`);
      const rows = [];
      for (const m of xml.matchAll(/<c r="([A-Z]+)(\d+)"([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
        const [, col, row, attrs, inner = ''] = m;
        const v = /<v>([\s\S]*?)<\/v>/.exec(inner);
        const is = /<t[^>]*>([\s\S]*?)<\/t>/.exec(inner);
        let value = '';
        if (/t="s"/.test(attrs) && v) value = shared[Number(v[1])];
        else if (/t="inlineStr"/.test(attrs) && is) value = unescape(is[1]);
        else if (v) value = unescape(v[1]);
        const r = Number(row) - 1;
        while (rows.length <= r) rows.push([]);
        const cells = rows[r];
        const c = colIndex(col);
        while (cells.length <= c) cells.push('');
        cells[c] = value;
      }
      return rows;
    },
  };
}
