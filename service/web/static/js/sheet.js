// A spreadsheet as a table in the page: its first rows. CSV/TSV are read as they are; a workbook is turned
// into CSV by the server's own tools (csv-excel for xlsx, convert-spreadsheet for ods/xls), through the
// public API like any script would: no spreadsheet parser ships to the browser.
import { api, el, request } from './api.js';

export const SHEET = /\.(csv|tsv|xlsx|xlsm|ods|xls)$/i;
const ROWS = 50;
const HEAD_BYTES = 64 * 1024; // enough for the first rows; a partial last line is dropped

function parse(text, separator) {
  const rows = [];
  const lines = text.split(/\r?\n/);
  for (const line of lines.slice(0, ROWS + 1)) {
    if (!line) continue;
    const cells = []; let cur = ''; let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted) { if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c; }
      else if (c === '"') quoted = true; else if (c === separator) { cells.push(cur); cur = ''; } else cur += c;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}

export function table(text, { separator = ',', label = 'Table preview', complete = true } = {}) {
  const cut = complete ? text : text.slice(0, Math.max(0, text.lastIndexOf('\n'))); // a cut-off last line
  const [head, ...body] = parse(cut, separator);
  const more = body.length >= ROWS || !complete;
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label },
    el('table', {},
      more ? el('caption', { class: 'hint', text: `The first ${body.length} rows` }) : null,
      el('thead', {}, el('tr', {}, (head || []).map((c) => el('th', { scope: 'col', text: c })))),
      el('tbody', {}, body.map((r) => el('tr', {}, r.map((c) => el('td', { text: c })))))));
}

// the first bytes of a File/Blob or of a URL (the download route serves Range): {text, complete}
async function head(source) {
  if (source instanceof Blob) {
    return { text: await source.slice(0, HEAD_BYTES).text(), complete: source.size <= HEAD_BYTES };
  }
  const response = await fetch(source, { headers: { Range: `bytes=0-${HEAD_BYTES - 1}` } });
  if (!response.ok) throw new Error('not readable');
  const total = Number((response.headers.get('Content-Range') || '').split('/')[1] || 0);
  return { text: await response.text(), complete: response.status === 200 || total <= HEAD_BYTES };
}

async function finished(jobId) {
  for (;;) {
    const frame = await api(`/api/v1/jobs/${jobId}`);
    if (frame.status === 'completed') return frame.result;
    if (frame.status === 'failed' || frame.status === 'canceled') throw new Error(frame.error || 'failed');
    await new Promise((resolve) => { setTimeout(resolve, 400); });
  }
}

// a workbook's first sheet as CSV, made by the server: its download URL
async function asCsv(blob, name) {
  const xlsx = /\.(xlsx|xlsm)$/i.test(name);
  const form = new FormData();
  form.append('file', blob, name);
  form.append('settings', JSON.stringify(xlsx ? { sheet: 1 } : { format: 'csv' }));
  let body = await (await request(`/api/v1/tools/${xlsx ? 'csv-excel' : 'convert-spreadsheet'}`, { method: 'POST', form })).json();
  if (body.async) body = await finished(body.jobId);
  return body.downloadUrl;
}

// source: a File/Blob, or the URL of a result; name says its format
export async function sheetPreview(source, name) {
  const label = `Preview of ${name}`;
  if (/\.(csv|tsv)$/i.test(name)) {
    const { text, complete } = await head(source);
    return table(text, { separator: /\.tsv$/i.test(name) ? '\t' : ',', label, complete });
  }
  const blob = source instanceof Blob ? source : await (await fetch(source)).blob();
  const { text, complete } = await head(await asCsv(blob, name));
  return table(text, { label: `${label} (first sheet)`, complete });
}
