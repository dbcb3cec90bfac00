// The Inbox: triaged mail grouped by priority, with category and summary, action items
// and a reply flag; a click on the category corrects it (and teaches it for the sender).
// "Triage now" fetches new mail of every account and streams the records in; the
// schedule does the same in the background and the list follows its progress.
import { api, errorText, type ImapAccount, type InboxEntry, type InboxView, type Priority4, type MailStatus } from "./api";
import { dueLabel, mailStatusLine } from "./format";
import { $ } from "./dom";
const PRIORITIES: Priority4[] = ["urgent", "high", "normal", "low"];

let view: InboxView | null = null;
let filter: { priority: Priority4 | null; category: string | null } = { priority: null, category: null };
let running = false;
let toast: (text: string) => void = () => {};
let searchTimer = 0;
let mailStatus: MailStatus | null = null;
let lastRefresh = 0;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = "", text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

function itemEl(item: InboxEntry, categories: string[]): HTMLElement {
  const r = item.record;
  const row = el("article", `mail-item priority-${r.priority}`);
  row.dataset.id = String(item.message_id);
  const head = el("div", "mail-head");
  head.append(el("span", `badge prio prio-${r.priority}`, r.priority));
  head.append(el("span", "mail-subject", item.subject || "(no subject)"));
  if (r.needs_reply) head.append(el("span", "badge reply", "needs reply"));
  const select = el("select", "mail-category");
  select.title = "Correct the category (mail from this sender will follow)";
  for (const c of categories) select.append(new Option(c, c, false, c === r.category));
  select.onchange = async () => {
    try {
      const fixed = await api.correctTriage(item.message_id, select.value, null);
      item.record = fixed;
      toast(`Filed as ${fixed.category}; mail from ${item.from ?? "this sender"} will follow`);
      render();
      // A refresh that started before the correction was saved may land after it.
      void refreshInbox();
    } catch (e) {
      toast(errorText(e));
    }
  };
  head.append(select);
  head.append(forgetButton(item));
  row.append(head);
  row.append(el("div", "meta", [item.from ?? "unknown sender", r.route, `decided by ${r.decided_by}`].join(" · ")));
  row.append(el("div", "mail-summary", r.summary));
  if (r.action_items.length) {
    const ul = el("ul", "actions-list");
    for (const a of r.action_items) ul.append(el("li", "", a.due ? `${a.text} (by ${dueLabel(a.due)})` : a.text));
    row.append(ul);
  }
  if (item.draft) {
    const draft = el("details", "mail-draft");
    draft.append(el("summary", "", "Reply draft (kept here, never sent)"));
    draft.append(el("pre", "", item.draft));
    const copy = el("button", "ghost", "Copy draft");
    copy.type = "button";
    copy.onclick = () =>
      void navigator.clipboard
        .writeText(item.draft ?? "")
        .then(() => toast("Draft copied: paste it into your mail app"))
        .catch((e) => toast(errorText(e)));
    draft.append(copy);
    row.append(draft);
  }
  return row;
}

/// Forgets a message here (two clicks, so one slip forgets nothing); the mailbox is
/// never changed.
function forgetButton(item: InboxEntry): HTMLButtonElement {
  const b = el("button", "ghost danger mail-forget", "Forget");
  b.type = "button";
  b.title = "Forget this message in Bantam: its summary, draft and search entries (your mailbox is not changed)";
  let armed = 0;
  b.onclick = async () => {
    if (Date.now() - armed > 5000) {
      armed = Date.now();
      b.textContent = "Click again to forget";
      window.setTimeout(() => (b.textContent = "Forget"), 5000);
      return;
    }
    try {
      await api.forgetMail(item.message_id);
      if (view) view.items = view.items.filter((i) => i.message_id !== item.message_id);
      render();
      toast("Forgotten here; your mailbox is unchanged");
    } catch (e) {
      toast(errorText(e));
    }
  };
  return b;
}

function render() {
  if (!view) return;
  const v = view;
  const list = $("inbox-list");
  list.replaceChildren();
  const chips = $("inbox-filters");
  chips.replaceChildren();
  const chip = (label: string, active: boolean, onclick: () => void) => {
    const b = el("button", `ghost chip${active ? " active" : ""}`, label);
    b.type = "button";
    b.onclick = onclick;
    chips.append(b);
  };
  chip(`All ${v.items.length}`, !filter.priority && !filter.category, () => {
    filter = { priority: null, category: null };
    render();
  });
  for (const p of PRIORITIES) {
    const n = v.items.filter((i) => i.record.priority === p).length;
    if (n) chip(`${p} ${n}`, filter.priority === p, () => ((filter = { priority: p, category: null }), render()));
  }
  for (const c of v.categories) {
    const n = v.items.filter((i) => i.record.category === c).length;
    if (n) chip(`${c} ${n}`, filter.category === c, () => ((filter = { priority: null, category: c }), render()));
  }
  const shown = v.items.filter(
    (i) => (!filter.priority || i.record.priority === filter.priority) && (!filter.category || i.record.category === filter.category),
  );
  if (v.items.length === 0) {
    const empty = el("div", "empty");
    empty.append(el("h2", "", "No triaged mail yet"));
    empty.append(
      el(
        "p",
        "",
        v.accounts === 0
          ? "Add an IMAP account in Settings, then press Triage now. Mail is read, never changed, and stays on this machine."
          : "Press Triage now to fetch and sort new mail.",
      ),
    );
    list.append(empty);
    return;
  }
  for (const p of PRIORITIES) {
    const group = shown.filter((i) => i.record.priority === p);
    if (!group.length) continue;
    const section = el("section", "mail-group");
    section.append(el("h2", "", `${p} · ${group.length}`));
    for (const i of group) section.append(itemEl(i, v.categories));
    list.append(section);
  }
}

export async function refreshInbox() {
  lastRefresh = Date.now();
  view = await api.inbox($<HTMLInputElement>("inbox-search").value || null);
  render();
}

/** Shows one message in the inbox (a search hit or a citation opens it): every filter
 *  off, the row scrolled to, marked and focused. */
export async function revealMail(id: number) {
  filter = { priority: null, category: null };
  $<HTMLInputElement>("inbox-search").value = "";
  await refreshInbox();
  const row = document.querySelector<HTMLElement>(`#inbox-list .mail-item[data-id="${id}"]`);
  if (!row) {
    toast("That message is not in the inbox: it was not triaged.");
    return;
  }
  for (const r of document.querySelectorAll(".mail-item.found")) r.classList.remove("found");
  row.classList.add("found");
  row.tabIndex = -1;
  row.scrollIntoView({ block: "center" });
  row.focus();
}

function showMailStatus(s: MailStatus) {
  const was = mailStatus;
  mailStatus = s;
  if (!running) $("triage-progress").textContent = mailStatusLine(s);
  $<HTMLButtonElement>("triage-now").disabled = running || s.running;
  const visible = !$("inbox-view").hidden;
  // A background run: the list follows (at most once a second) and is exact at the end.
  if (visible && !running && was && (was.done !== s.done || (was.running && !s.running))) {
    if (!s.running || Date.now() - lastRefresh > 1000) void refreshInbox();
  }
}

async function loadMailOptions() {
  const o = await api.mailOptions();
  $<HTMLSelectElement>("mail-every").value = String(o.every_minutes);
  $<HTMLInputElement>("mail-notify").checked = o.notify_urgent;
  $<HTMLInputElement>("mail-drafts").checked = o.drafts;
}

async function saveMailOptions() {
  try {
    await api.setMailOptions({
      every_minutes: parseInt($<HTMLSelectElement>("mail-every").value, 10) || 0,
      notify_urgent: $<HTMLInputElement>("mail-notify").checked,
      drafts: $<HTMLInputElement>("mail-drafts").checked,
    });
    toast("Mail settings saved");
  } catch (e) {
    toast(errorText(e));
  }
}

export async function triageNow() {
  if (running) return;
  running = true;
  const progress = $("triage-progress");
  const button = $<HTMLButtonElement>("triage-now");
  button.disabled = true;
  let count = 0;
  progress.textContent = "Connecting…";
  try {
    await api.triageNow((e) => {
      if (e.type === "account") progress.textContent = `${e.name}: fetching new mail…`;
      else if (e.type === "record") {
        count += 1;
        progress.textContent = `${count} triaged…`;
        if (view && !view.items.some((i) => i.message_id === e.item.message_id)) {
          view.items.push(e.item);
          render();
        }
      } else if (e.type === "failed") toast(e.message);
      else if (e.type === "done")
        progress.textContent = e.fetched ? `${e.account}: ${e.fetched} new` : `${e.account}: nothing new`;
    });
    await refreshInbox();
  } catch (e) {
    progress.textContent = "";
    toast(errorText(e));
  } finally {
    running = false;
    button.disabled = false;
    if (mailStatus) window.setTimeout(() => mailStatus && showMailStatus(mailStatus), 3000);
  }
}

// ---- accounts (in Settings) --------------------------------------------------------------
export async function refreshAccounts() {
  void loadMailOptions().catch((e) => toast(errorText(e)));
  const box = $("account-list");
  box.replaceChildren();
  const accounts = await api.accounts();
  if (accounts.length === 0) box.append(el("p", "hint", "No mail account yet."));
  for (const a of accounts) {
    const row = el("div", "row account");
    row.dataset.name = a.name;
    const moves = a.move_to_route ? " · moves mail into Triage/ folders" : " · read-only";
    row.append(el("span", "", `${a.name} — ${a.user}@${a.host}:${a.port} (${a.security}) ${a.folder}${moves}`));
    const test = el("button", "ghost", "Test");
    test.type = "button";
    test.onclick = () =>
      void api
        .testAccount(a.name)
        .then((n) => toast(`${a.name}: connected, ${n} message${n === 1 ? "" : "s"}`))
        .catch((e) => toast(errorText(e)));
    const remove = el("button", "ghost danger", "Remove");
    remove.type = "button";
    remove.onclick = async () => {
      if (!window.confirm(`Remove ${a.name} and its stored password?`)) return;
      await api.removeAccount(a.name);
      await refreshAccounts();
    };
    row.append(test, remove);
    box.append(row);
  }
}

async function addAccount() {
  const v = (id: string) => $<HTMLInputElement>(id).value.trim();
  const starttls = $<HTMLInputElement>("acc-starttls").checked;
  const account: ImapAccount = {
    name: v("acc-name"),
    host: v("acc-host"),
    port: parseInt(v("acc-port"), 10) || (starttls ? 143 : 993),
    security: starttls ? "starttls" : "tls",
    user: v("acc-user"),
    folder: v("acc-folder") || "INBOX",
    ca_file: v("acc-ca") || null,
    move_to_route: $<HTMLInputElement>("acc-move").checked,
  };
  const status = $("acc-status");
  status.textContent = "Connecting…";
  status.classList.remove("error");
  try {
    const n = await api.addAccount(account, $<HTMLInputElement>("acc-password").value);
    status.textContent = `Added: connected, ${n} message${n === 1 ? "" : "s"} in ${account.folder}. The password is in the system keyring.`;
    $<HTMLInputElement>("acc-password").value = "";
    await refreshAccounts();
  } catch (e) {
    status.textContent = errorText(e);
    status.classList.add("error");
  }
}

export function initInbox(hooks: { toast: (text: string) => void }) {
  toast = hooks.toast;
  $("triage-now").onclick = () => void triageNow();
  $<HTMLInputElement>("inbox-search").addEventListener("input", () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => void refreshInbox(), 150);
  });
  $("acc-add").onclick = () => void addAccount();
  for (const id of ["mail-every", "mail-notify", "mail-drafts"]) $(id).addEventListener("change", () => void saveMailOptions());
  void api.on<MailStatus>("mail-status", showMailStatus);
  void api.mailStatus().then(showMailStatus);
  // "next check in N min" stays true while the page is open.
  window.setInterval(() => mailStatus && !running && ($("triage-progress").textContent = mailStatusLine(mailStatus)), 30_000);
}
