// Building the page's elements. Server text only ever becomes text nodes, never HTML.

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const byId = (id) => document.getElementById(id);

export function readJson(id) {
  return JSON.parse(byId(id).textContent);
}

// Is the element scrolled (nearly) to its end? Then new content keeps it there.
export function nearBottom(element, slack = 80) {
  return element.scrollHeight - element.scrollTop - element.clientHeight < slack;
}
