// Pages editor: list with title prefix search, create, rename, items of each type (add, edit,
// delete), reorder with Move up/down buttons (keyboard-friendly; saved with PUT /order), delete.
import { claims, can, del, get, patch, post, put } from "./api.js";
import { empty, failure, field, focusHeading, h, loading, replace, select, toast } from "./dom.js";

// The content types and their fields (README: video, audio, text). [name, label, kind, hint]
export const TYPES = {
  video: [["video_url", "Video URL", "url", "An external link; or name an uploaded file below."],
    ["subtitles_url", "Subtitles URL", "url"], ["file_id", "Uploaded video file id", "id"],
    ["subtitles_file_id", "Uploaded subtitles file id", "id"]],
  audio: [["transcript", "Transcript", "long", "Text of any length."], ["audio_url", "Audio URL", "url"],
    ["file_id", "Uploaded audio file id", "id"], ["transcript_file_id", "Transcript from an uploaded text file (id)", "id"]],
  text: [["body", "Body", "long", "Text of any length."], ["body_file_id", "Body from an uploaded text file (id)", "id"]],
};

function editable() {
  const c = claims();
  return c && can(c.role, "edit");
}

// ---------------------------------------------------------------- list

export function pagesView(root) {
  const [searchField, search] = field("Search by title", h("input", { type: "search", placeholder: "Title starts with…", autocomplete: "off" }));
  const results = h("div", { class: "pages-list", "aria-live": "polite" });
  const parts = [h("div", { class: "title-row" }, h("h1", {}, "Pages"))];
  if (editable()) parts.push(createForm());
  parts.push(h("form", { class: "search", role: "search", onsubmit: (e) => { e.preventDefault(); run(); } }, searchField,
    h("button", { type: "submit" }, "Search")), results);
  replace(root, parts);
  focusHeading(root);

  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 300); });
  function run() {
    const q = search.value.trim();
    replace(results);
    list(results, `/pages?limit=20${q ? `&title=${encodeURIComponent(q)}` : ""}`, q, true);
  }
  run();
}

function createForm() {
  const [titleField, title] = field("New page title", h("input", { type: "text", maxlength: 200, required: true, name: "title" }));
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card create-page" }, titleField,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create page")), msg);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const page = await post("/pages", { title: title.value.trim(), items: [] });
      toast(`Page “${page.title}” created.`);
      location.hash = `#/pages/${page.id}`;
    } catch (err) {
      replace(msg, failure("The page was not created.", err));
    }
  });
  return form;
}

async function list(box, path, query, first) {
  const spinner = loading("Loading pages…");
  box.append(spinner);
  try {
    const page = await get(path);
    spinner.remove();
    if (first && !page.results.length) {
      box.append(empty(query ? `No page title starts with “${query}”.` : "There are no pages yet."));
      return;
    }
    const ul = box.querySelector("ul") || box.appendChild(h("ul", { class: "plain page-links" }));
    for (const p of page.results) ul.append(h("li", {}, h("a", { href: `#/pages/${p.id}` }, p.title)));
    if (page.next) {
      const more = h("button", { type: "button" }, "Load more");
      more.addEventListener("click", () => { more.remove(); list(box, page.next, query, false); });
      box.append(more);
    }
  } catch (err) {
    spinner.remove();
    box.append(failure("Pages could not be loaded.", err, () => { replace(box); list(box, path, query, first); }));
  }
}

// ---------------------------------------------------------------- one page

export function pageView(root, pageId) {
  replace(root, loading("Loading the page…"));
  // Reading a page counts a view of each item (GET /pages/{id}); the editor reads it once.
  get(`/pages/${pageId}`).then((page) => renderPage(root, page)).catch((err) => {
    replace(root, h("p", {}, h("a", { href: "#/pages" }, "← All pages")),
      failure(err.status === 404 ? "No such page." : "The page could not be loaded.", err, () => pageView(root, pageId)));
  });
}

function renderPage(root, page) {
  const canEdit = editable();
  const items = h("ol", { class: "items plain", id: "items" });
  const state = { page };

  function draw(focusItemId, focusAction) {
    replace(items, state.page.items.length ? state.page.items.map((item, i) => itemCard(item, i)) : [h("li", {}, empty("This page has no items yet."))]);
    if (focusItemId) {
      const target = items.querySelector(`[data-item="${focusItemId}"] [data-action="${focusAction}"]`)
        || items.querySelector(`[data-item="${focusItemId}"] button:not([disabled])`);
      if (target) target.focus();
    }
  }

  async function move(index, delta) {
    const ids = state.page.items.map((it) => it.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(index + delta, 0, moved);
    try {
      state.page = await put(`/pages/${state.page.id}/order`, { items: ids });
      draw(moved, delta < 0 ? "up" : "down");
      toast("Order saved.");
    } catch (err) {
      toast(`Order not saved: ${err.message}`);
    }
  }

  function itemCard(item, index) {
    const heading = h("h3", {}, `${index + 1}. ${item.title} `, h("span", { class: "badge" }, item.type), h("span", { class: "hint" }, ` · ${item.views} views`));
    if (!canEdit) {
      return h("li", { class: "card item", "data-item": item.id }, heading, readOnly(item));
    }
    const form = itemForm(item.type, item, async (body, msg) => {
      try {
        const updated = await patch(`/pages/${state.page.id}/items/${item.id}`, body);
        state.page.items = state.page.items.map((it) => (it.id === item.id ? updated : it));
        draw(item.id, "save");
        toast("Item saved.");
      } catch (err) {
        replace(msg, failure("The item was not saved.", err));
      }
    }, "Save item");
    const last = state.page.items.length - 1;
    const tools = h("div", { class: "row tools" },
      h("button", { type: "button", "data-action": "up", disabled: index === 0, onclick: () => move(index, -1), "aria-label": `Move “${item.title}” up` }, "↑ Move up"),
      h("button", { type: "button", "data-action": "down", disabled: index === last, onclick: () => move(index, 1), "aria-label": `Move “${item.title}” down` }, "↓ Move down"),
      h("button", { type: "button", class: "danger", "data-action": "delete", "aria-label": `Delete “${item.title}”`, onclick: async () => {
        if (!window.confirm(`Delete the item “${item.title}”?`)) return;
        try {
          await del(`/pages/${state.page.id}/items/${item.id}`);
          state.page.items = state.page.items.filter((it) => it.id !== item.id);
          draw();
          toast("Item deleted.");
          addTitle.focus();
        } catch (err) {
          toast(`Not deleted: ${err.message}`);
        }
      } }, "Delete"));
    return h("li", { class: "card item", "data-item": item.id }, heading, tools,
      h("details", {}, h("summary", {}, `Edit “${item.title}”`), form));
  }

  // Adding an item: the type picks the fields.
  const [typeField, type] = field("Type", select([["video", "Video"], ["audio", "Audio"], ["text", "Text"]], "text"));
  const addBox = h("div");
  let addTitle = h("input");
  function drawAdd() {
    const form = itemForm(type.value, null, async (body, msg) => {
      try {
        const item = await post(`/pages/${state.page.id}/items`, { type: type.value, ...body });
        state.page.items = [...state.page.items, item];
        draw();
        drawAdd();
        toast(`Item “${item.title}” added.`);
        addTitle.focus();
      } catch (err) {
        replace(msg, failure("The item was not added.", err));
      }
    }, "Add item");
    addTitle = form.querySelector("input");
    replace(addBox, form);
  }
  type.addEventListener("change", drawAdd);

  const parts = [h("p", {}, h("a", { href: "#/pages" }, "← All pages")), h("h1", { id: "page-title" }, state.page.title)];
  if (canEdit) {
    const [renameField, rename] = field("Title", h("input", { type: "text", value: state.page.title, maxlength: 200, required: true }));
    const renameForm = h("form", { class: "row inline", onsubmit: async (e) => {
      e.preventDefault();
      try {
        state.page = await patch(`/pages/${state.page.id}`, { title: rename.value.trim() });
        root.querySelector("#page-title").textContent = state.page.title;
        toast("Title saved.");
      } catch (err) {
        toast(`Title not saved: ${err.message}`);
      }
    } }, renameField, h("button", { type: "submit" }, "Rename"));
    const deletePage = h("button", { type: "button", class: "danger", onclick: async () => {
      if (!window.confirm(`Delete the page “${state.page.title}” and all its items?`)) return;
      try {
        await del(`/pages/${state.page.id}`);
        toast("Page deleted.");
        location.hash = "#/pages";
      } catch (err) {
        toast(`Not deleted: ${err.message}`);
      }
    } }, "Delete page");
    parts.push(h("div", { class: "card" }, renameForm, h("div", { class: "actions" }, deletePage)));
  }
  parts.push(h("section", { "aria-labelledby": "items-title" }, h("h2", { id: "items-title" }, "Items"), items));
  if (canEdit) parts.push(h("section", { class: "card", "aria-labelledby": "add-title" }, h("h2", { id: "add-title" }, "Add an item"), typeField, addBox));
  replace(root, parts);
  draw();
  if (canEdit) drawAdd();
  focusHeading(root);
}

function readOnly(item) {
  const rows = (TYPES[item.type] || []).filter(([name]) => item[name] || item[`${name}_url`]);
  return h("dl", { class: "meta" }, rows.map(([name, label]) => [h("dt", {}, label),
    h("dd", {}, item[name] ? String(item[name]).slice(0, 500) : h("a", { href: item[`${name}_url`] }, "Full text"))]));
}

// The fields of one content type. onSubmit(body, msgElement). For an edit, only changed fields go.
function itemForm(type, item, onSubmit, submitText) {
  const [titleField, title] = field("Title", h("input", { type: "text", maxlength: 200, required: true, value: item ? item.title : "", "data-field": "title" }));
  const controls = [["title", title]];
  const fields = [titleField];
  for (const [name, label, kind, hint] of TYPES[type] || []) {
    const current = item ? item[name] : null;
    let longHint = hint;
    if (item && kind === "long" && current === null && item[`${name}_url`]) {
      longHint = "This text is long and kept separately; leave this empty to keep it, or type a new text to replace it.";
    }
    const control = kind === "long"
      ? h("textarea", { rows: 4, value: current || "", "data-field": name })
      : h("input", { type: kind === "url" ? "url" : "text", value: current || "", "data-field": name, maxlength: 2048 });
    const [wrapper] = field(label, control, longHint);
    fields.push(wrapper);
    controls.push([name, control]);
  }
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "item-form" }, fields,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", "data-action": "save" }, submitText)), msg);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    replace(msg);
    const body = {};
    for (const [name, control] of controls) {
      const value = control.value.trim() === "" ? null : (name === "title" ? control.value.trim() : control.value);
      if (!item) {
        if (value !== null) body[name] = value;
      } else if (value !== (item[name] ?? null)) {
        if (value === null && item[`${name}_url`]) continue; // a long text left empty: keep it
        body[name] = value;
      }
    }
    if (item && !Object.keys(body).length) {
      replace(msg, "Nothing changed.");
      return;
    }
    onSubmit(body, msg);
  });
  return form;
}
