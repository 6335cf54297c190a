// A small accessibility audit run in the page (tests/pwa/test_a11y.py): touch targets, names of
// controls, text contrast, one h1, alt text. Returns a list of problems as strings.
() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== "hidden" && cs.display !== "none";
  };
  const describe = (el) => {
    const text = (el.getAttribute("aria-label") || el.textContent || el.id || "").trim().replace(/\s+/g, " ");
    return `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : ""} "${text.slice(0, 40)}"`;
  };
  const inProse = (el) => el.tagName === "A" && el.closest("p, dd, li.notice-text") && !el.classList.contains("btn");

  // touch targets: 44 × 44 CSS px (inline links in running text excepted, WCAG 2.5.8)
  for (const el of document.querySelectorAll("main a[href], main button, main select, main summary, main input, main textarea, nav a, header button")) {
    if (!visible(el) && !(el.matches("input[type=checkbox], input[type=radio], input[type=file]"))) continue;
    let box = el.getBoundingClientRect();
    const behindLabel = el.matches("input[type=checkbox], input[type=radio]") || (el.type === "file" && getComputedStyle(el).opacity === "0");
    if (behindLabel) {
      const label = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (!label) {
        problems.push(`no label around ${describe(el)}`);
        continue;
      }
      box = label.getBoundingClientRect();
    } else if (inProse(el)) {
      continue;
    }
    if (box.height < 43.5 || box.width < 43.5) problems.push(`small target ${Math.round(box.width)}×${Math.round(box.height)} ${describe(el)}`);
  }

  // every control has a name
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!named) problems.push(`unnamed control ${describe(el)}`);
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!visible(el)) continue;
    const name = (el.getAttribute("aria-label") || el.textContent || "").trim() || (el.querySelector("img[alt]:not([alt=''])") ? "img" : "");
    if (!name) problems.push(`unnamed ${describe(el)}`);
  }
  for (const img of document.querySelectorAll("img")) if (!img.hasAttribute("alt")) problems.push(`img without alt ${img.src}`);
  const h1 = [...document.querySelectorAll("h1")].filter(visible);
  if (h1.length !== 1) problems.push(`${h1.length} h1 elements`);

  // text contrast: 4.5:1, or 3:1 for large text
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || seen.has(el) || el.closest("svg, noscript, .skip, [hidden]") || !visible(el)) continue;
    seen.add(el);
    const cs = getComputedStyle(el);
    if (Number(cs.opacity) < 1 || el.closest("button:disabled")) continue;
    const fg = rgb(cs.color).slice(0, 3);
    const bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} ${describe(el)}`);
  }
  return problems;
}
