import assert from 'node:assert/strict';
import { escapeHtml, html } from './html.ts';

describe('html', () => {
  it('escapes every interpolated string, including attribute quotes', () => {
    const name = `<script>alert("x")</script>' onmouseover='1`;
    assert.equal(html`<td title="${name}">${name}</td>`.text,
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;1">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;1</td>');
  });

  it('keeps nested html as is, joins arrays, and drops null, undefined and false', () => {
    const rows = ['a&b', 'c'].map((x) => html`<li>${x}</li>`);
    assert.equal(html`<ul>${rows}</ul>${null}${undefined}${false}${0}`.text, '<ul><li>a&amp;b</li><li>c</li></ul>0');
  });

  it('escapeHtml leaves plain text alone', () => {
    assert.equal(escapeHtml('node1 52:54:00:00:00:01'), 'node1 52:54:00:00:00:01');
  });
});
