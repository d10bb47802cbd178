import { createHash } from 'node:crypto';

/** The console's only stylesheet, inlined: no asset to serve a signed-out visitor, no CDN. */
export const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa}
header{display:flex;gap:1.2rem;align-items:center;padding:.6rem 1.2rem;background:#24292f;color:#fff}
header a{color:#fff;text-decoration:none}header a.here{text-decoration:underline}
header .who{margin-left:auto;display:flex;gap:.6rem;align-items:center;color:#c9d1d9}
main{padding:1rem 1.2rem;max-width:1200px}
h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#eaeef2;font-weight:600}
tr.flagged td{background:#fff8c5}tr.bad td{background:#ffebe9}
.state{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:.8rem;font-weight:600;color:#fff}
.state.ok{background:#1a7f37}.state.bad{background:#cf222e}.state.open{background:#bf8700}.state.idle{background:#6e7781}
.flag{color:#9a6700;font-weight:600}
.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.6rem}
.notice{padding:.6rem 1rem;border-radius:6px;margin:.6rem 0;border:1px solid}
.notice.error{background:#ffebe9;border-color:#ff8182}.notice.ok{background:#dafbe1;border-color:#4ac26b}
.notice.warn{background:#fff8c5;border-color:#d4a72c}
form.filters{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end;margin-bottom:.8rem}
label{display:flex;flex-direction:column;font-size:.8rem;gap:.15rem}
input,select,textarea,button{font:inherit;padding:.3rem .45rem}
button{cursor:pointer;border:1px solid #8c959f;border-radius:6px;background:#f6f8fa}
button.primary{background:#1f883d;color:#fff;border-color:#1a7f37}
button.danger{background:#cf222e;color:#fff;border-color:#a40e26}
.actions{display:flex;gap:1rem;flex-wrap:wrap}
.actions form{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;display:flex;flex-direction:column;gap:.4rem}
.timeline{list-style:none;padding:0;margin:0}
.timeline li{background:#fff;border:1px solid #d0d7de;border-left:4px solid #8c959f;border-radius:4px;padding:.4rem .7rem;margin:.4rem 0}
.timeline li.event{border-left-color:#8250df}.timeline li.razer{border-left-color:#0969da}
.timeline li.supplier{border-left-color:#bf8700}.timeline li.webhook{border-left-color:#1a7f37}
.timeline .facts{color:#57606a;font-size:.85rem}
pre.fix{background:#dafbe1;border:1px solid #4ac26b}pre.fix.refused{background:#ffebe9;border-color:#ff8182}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.4rem;margin:.2rem 0;font-size:.8rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.6rem;border:1px solid #d0d7de}
dt{color:#57606a}dd{margin:0}
svg.chart{background:#fff;border:1px solid #d0d7de;max-width:100%}
.legend span{margin-right:1rem}.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
.delivered{fill:#1a7f37;background:#1a7f37}.failed{fill:#cf222e;background:#cf222e}
.not-bought{fill:#8c959f;background:#8c959f}.open{fill:#d4a72c;background:#d4a72c}
.muted{color:#57606a}
.lines li{white-space:pre-wrap}
.num{text-align:right}.negative,.negative b{color:#cf222e}
#exports{gap:1.5rem;margin:.6rem 0}
.signin{max-width:22rem;margin:4rem auto;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1.2rem;display:flex;flex-direction:column;gap:.7rem}
`;

/** The stylesheet's CSP hash: the page allows this exact inline style and nothing else. */
export const CSS_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;
