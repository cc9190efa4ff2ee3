// The repository browser's page (sovereign.registry.browser). Read-only:
// GETs of /browse/api/ only. The credentials live in this page's memory
// (never in storage, a cookie or a URL) and go in the Authorization header;
// a reload forgets them. Everything is written with textContent: a name
// from the registry is never parsed as HTML.
"use strict";

(function () {
  const api = "api/";
  let authorization = null;
  let names = [];
  // The list as last fetched for these credentials: going back to it costs
  // no request (each asks docker_auth about every repository); logging in
  // or out, or "reload", fetches it again.
  let listed = null;

  const $ = (id) => document.getElementById(id);

  function say(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  function basic(user, password) {
    const bytes = new TextEncoder().encode(user + ":" + password);
    let binary = "";
    bytes.forEach((b) => { binary += String.fromCharCode(b); });
    return "Basic " + btoa(binary);
  }

  async function get(path) {
    const headers = authorization ? { Authorization: authorization } : {};
    const answer = await fetch(api + path, { headers: headers, cache: "no-store", credentials: "omit" });
    let body = {};
    try { body = await answer.json(); } catch (ignored) { body = {}; }
    if (answer.status === 429) {
      throw new Error("too many wrong passwords: try again in " + (answer.headers.get("Retry-After") || "a few") + " seconds");
    }
    if (!answer.ok) {
      const failure = new Error(body.error || ("the server answered " + answer.status));
      failure.status = answer.status;
      throw failure;
    }
    return body;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function bytes(size) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = size;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }

  function when(iso) {
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?(\+00:00|Z)$/, " UTC") : "unknown";
  }

  function showWho(document_) {
    $("domain").textContent = document_.domain || "";
    document.body.classList.toggle("admin", Boolean(document_.admin));
    $("login").hidden = Boolean(document_.viewer);
    $("who").hidden = !document_.viewer;
    $("viewer").textContent = document_.viewer ? document_.viewer + (document_.admin ? " (admin)" : "") : "";
  }

  function renderList() {
    const filter = $("filter").value.trim();
    const list = $("repositories");
    const shown = filter ? names.filter((name) => name.includes(filter)) : names;
    const fragment = document.createDocumentFragment();
    shown.forEach((name) => {
      const item = element("li");
      const link = element("a", name);
      link.href = "#/r/" + encodeURIComponent(name);
      item.appendChild(link);
      fragment.appendChild(item);
    });
    list.replaceChildren(fragment);
    $("count").textContent = shown.length + " of " + names.length + " repositories you may pull";
  }

  async function showList() {
    $("repository-view").hidden = true;
    if (listed === null) {
      say("loading…");
      listed = await get("repositories");
    }
    const document_ = listed;
    names = document_.repositories;
    showWho(document_);
    renderList();
    $("list-view").hidden = false;
    say("");
  }

  function tagRow(repository, tag, entry, doomed) {
    const row = element("tr");
    row.dataset.tag = tag;
    row.appendChild(element("td", tag));
    const digest = element("td");
    digest.appendChild(element("code", entry.digest.slice(0, 19)));
    digest.title = entry.digest;
    row.appendChild(digest);
    row.appendChild(element("td", bytes(entry.size), "size"));
    row.appendChild(element("td", when(entry.created)));
    row.appendChild(element("td", entry.platforms.length ? entry.platforms.join(", ") : "single image", "platforms"));
    row.appendChild(element("td", doomed ? "deleted at the next retention run" : "kept", doomed ? "doomed" : ""));
    const pushed = entry.pushed;
    row.appendChild(element("td", pushed ? pushed.user + ", " + when(pushed.time) : "not in the audit trail",
                            "admin-only pushed"));
    const pull = element("td", null, "pull");
    const line = element("code", "docker pull " + repository.pull + ":" + tag);
    pull.appendChild(line);
    const copy = element("button", "copy");
    copy.type = "button";
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(line.textContent).then(() => say("copied: " + line.textContent),
                                                            () => say("select the line and copy it", true));
    });
    pull.appendChild(copy);
    row.appendChild(pull);
    return row;
  }

  async function showRepository(name) {
    $("list-view").hidden = true;
    say("loading " + name + "…");
    const repository = await get("repository?name=" + encodeURIComponent(name));
    showWho(repository);
    $("repository-name").textContent = repository.name;
    const doomed = new Set(repository.retention.deleted);
    $("retention").textContent = repository.retention.rules === 0
      ? "No retention rules: every tag is kept."
      : repository.retention.refused
        ? "Retention would refuse to run: " + repository.retention.refused
        : doomed.size + " tag(s) would go at the next retention run.";
    const body = $("tags").tBodies[0];
    body.replaceChildren(...Object.keys(repository.tags).map(
      (tag) => tagRow(repository, tag, repository.tags[tag], doomed.has(tag))));
    $("repository-view").hidden = false;
    say(Object.keys(repository.tags).length + " tag(s)");
  }

  async function route() {
    const hash = location.hash || "#/";
    try {
      if (hash.startsWith("#/r/")) {
        await showRepository(decodeURIComponent(hash.slice(4)));
      } else {
        await showList();
      }
    } catch (failure) {
      if (failure.status === 401) {
        authorization = null;
        listed = null;
        $("login").hidden = false;
        $("who").hidden = true;
      }
      say(failure.message, true);
    }
  }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    authorization = basic($("username").value, $("password").value);
    listed = null;
    $("password").value = "";
    route();
  });
  $("logout").addEventListener("click", () => {
    authorization = null;
    listed = null;
    names = [];
    location.hash = "#/";
    route();
  });
  $("filter").addEventListener("input", renderList);
  $("reload").addEventListener("click", () => {
    listed = null;
    route();
  });
  window.addEventListener("hashchange", route);
  route();
}());
