import type { Client } from '../connection/client.js';
import { currentConv, selectConv, totalUnread } from '../state/model.js';
import type { Conv, State } from '../state/types.js';
import { findElements, type Elements } from './elements.js';
import { InputHistory } from './input-history.js';
import { MessageList } from './messages.js';
import { renderSidebar, type SidebarActions } from './sidebar.js';

/** How long the room filter waits for a pause in typing before it asks the server. */
const FILTER_PAUSE_MS = 250;

/**
 * Renders the client's state into index.html and turns clicks and keys into client calls.
 * Renders are batched: many events in one turn cost one render.
 */
export class View {
  readonly el: Elements = findElements();
  private readonly messages: MessageList;
  private readonly history = new InputHistory();
  private readonly sidebarActions: SidebarActions;
  private scheduled = false;
  private browseOpen = false;
  private shownNickError: string | null = null;

  constructor(private readonly client: Client) {
    this.messages = new MessageList(this.el);
    this.sidebarActions = {
      picked: () => {
        this.closeSidebar();
        this.el.input.focus();
      },
      closeSidebar: () => this.closeSidebar(),
    };
    this.bind();
  }

  private bind(): void {
    const { el, client } = this;
    el.nickForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const nick = el.nickInput.value.trim();
      if (nick === '') {
        client.prompt = { visible: true, error: 'a nick cannot be empty', busy: false };
        this.schedule();
        return;
      }
      client.start(nick, el.passwordField.hidden ? undefined : el.passwordInput.value);
    });
    el.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      const line = el.input.value;
      if (line.trim() === '') return;
      if (client.submit(line)) {
        this.history.push(line);
        el.input.value = '';
        this.messages.stickToBottom = true;
      }
    });
    el.input.addEventListener('keydown', (e) => {
      const text = this.history.key(e.key, el.input.value);
      if (text === undefined) return;
      e.preventDefault();
      el.input.value = text;
    });
    el.joinForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const room = el.joinInput.value.trim();
      if (room === '') return;
      if (client.joinRoom(room)) el.joinInput.value = '';
      else client.notConnected(null);
      this.closeSidebar();
      el.input.focus();
    });
    el.browse.addEventListener('click', () => {
      this.browseOpen = !this.browseOpen;
      if (this.browseOpen) client.listRooms(el.browseFilter.value.trim());
      this.schedule();
    });
    let filterTimer: ReturnType<typeof setTimeout> | undefined;
    el.browseFilter.addEventListener('input', () => {
      // Searching asks the server (the list is paged); wait for a pause in typing.
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => client.listRooms(el.browseFilter.value.trim()), FILTER_PAUSE_MS);
    });
    el.loadOlder.addEventListener('click', () => client.loadOlder());
    el.menu.addEventListener('click', () => this.toggleSidebar());
    el.scrim.addEventListener('click', () => this.closeSidebar());
    el.status.addEventListener('click', () => client.retryNow());
    document.addEventListener('keydown', (e) => {
      // Alt+Up / Alt+Down: previous / next conversation, as Ctrl+P / Ctrl+N in the terminal client.
      if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
      const keys = [...client.state.convs.keys()];
      if (keys.length === 0) return;
      e.preventDefault();
      const i = client.state.current === null ? -1 : keys.indexOf(client.state.current);
      const next = keys[(i + (e.key === 'ArrowDown' ? 1 : keys.length - 1)) % keys.length];
      if (next !== undefined) client.select(next);
    });
    setInterval(() => {
      if (client.state.conn.state === 'reconnecting') this.renderStatus();
    }, 1000);
  }

  private toggleSidebar(): void {
    const open = this.el.app.dataset.sidebar !== 'open';
    this.el.app.dataset.sidebar = open ? 'open' : 'closed';
    this.el.menu.setAttribute('aria-expanded', String(open));
    this.el.scrim.hidden = !open;
  }

  private closeSidebar(): void {
    this.el.app.dataset.sidebar = 'closed';
    this.el.menu.setAttribute('aria-expanded', 'false');
    this.el.scrim.hidden = true;
  }

  /** Asks for a render at the end of this turn. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.render();
    });
  }

  /** Renders everything now. */
  render(): void {
    const state = this.client.state;
    const current = currentConv(state);
    if (current && current.unread > 0) selectConv(state, current.key); // on screen: read
    this.renderPrompt();
    this.renderStatus();
    renderSidebar(this.el, this.client, this.sidebarActions, this.browseOpen);
    this.renderHeader(state, current);
    this.messages.render(current);
    const unread = totalUnread(state);
    document.title =
      unread > 0
        ? `(${unread}) chat`
        : current
          ? `${current.kind === 'room' ? '#' : '@'}${current.name} · chat`
          : 'chat';
  }

  private renderPrompt(): void {
    const { el } = this;
    const p = this.client.prompt;
    const wasHidden = el.overlay.hidden;
    const newError = p.error !== null && p.error !== this.shownNickError;
    this.shownNickError = p.error;
    el.overlay.hidden = !p.visible;
    el.app.inert = p.visible;
    el.nickError.hidden = !p.error;
    el.nickError.textContent = p.error ?? '';
    el.nickSubmit.disabled = p.busy;
    el.nickSubmit.textContent = p.busy ? 'Connecting…' : 'Start chatting';
    if (p.visible && p.nick && el.nickInput.value === '') el.nickInput.value = p.nick;
    const askPassword = Boolean(p.needPassword) && el.passwordField.hidden;
    el.passwordField.hidden = !p.needPassword;
    if (askPassword) el.passwordInput.focus();
    else if (p.visible && (wasHidden || newError)) {
      el.nickInput.focus();
      if (newError) el.nickInput.select();
    }
    if (!p.visible) el.passwordInput.value = '';
    if (!p.visible && !wasHidden) el.input.focus();
  }

  private renderStatus(): void {
    const { state } = this.client;
    const s = state.conn.state;
    const el = this.el.status;
    el.dataset.state = s;
    let text: string;
    if (s === 'connected') text = state.lagMs !== null ? `connected · ${state.lagMs} ms` : 'connected';
    else if (s === 'reconnecting' && state.conn.retryAt > Date.now()) {
      text = `reconnecting in ${Math.ceil((state.conn.retryAt - Date.now()) / 1000)} s`;
    } else if (s === 'reconnecting') text = 'reconnecting…';
    else if (s === 'connecting') text = 'connecting…';
    else if (s === 'identifying') text = 'connected · choose a nick';
    else text = 'offline';
    el.textContent = text;
    el.title = s === 'reconnecting' ? 'Click to retry now' : '';
    this.el.me.textContent = state.nick ? `Signed in as ${state.nick}` : '';
  }

  private renderHeader(state: State, current: Conv | undefined): void {
    const { el } = this;
    if (!current) {
      el.title.textContent = '';
      el.meta.textContent = state.nick ? 'no conversation open — join a room' : '';
      return;
    }
    if (current.kind === 'room') {
      el.title.textContent = `#${current.id}`;
      const n = current.members.size;
      const name = current.name !== current.id ? `${current.name} · ` : '';
      const topic = current.topic ? ` · ${current.topic}` : '';
      el.meta.textContent = current.joined
        ? `${name}${n} ${n === 1 ? 'member' : 'members'}${topic}`
        : `${name}not joined${topic}`;
      // The line is cut with an ellipsis on a narrow header; hovering shows the whole topic.
      el.meta.title = current.topic ?? '';
    } else {
      el.title.textContent = `@${current.name}`;
      el.meta.textContent = 'direct messages';
      el.meta.title = '';
    }
  }
}
