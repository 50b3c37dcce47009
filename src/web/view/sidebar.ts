import type { Client } from '../connection/client.js';
import { roomKey } from '../state/model.js';
import type { Conv, State } from '../state/types.js';
import { h } from './dom.js';
import type { Elements } from './elements.js';

/** What a click in the sidebar does besides talking to the client (the view's business). */
export interface SidebarActions {
  /** A conversation was picked: close the drawer and focus the composer. */
  picked(): void;
  /** A room was joined from the list: close the drawer. */
  closeSidebar(): void;
}

function convItem(
  client: Client,
  actions: SidebarActions,
  conv: Conv,
  current: string | null,
  testid: string,
) {
  const label = conv.kind === 'room' ? `#${conv.id}` : conv.name;
  const button = h(
    'button',
    {
      type: 'button',
      class: 'conv-button',
      title: conv.kind === 'room' && conv.name !== conv.id ? conv.name : undefined,
      'aria-current': conv.key === current ? 'true' : undefined,
      onclick: () => {
        client.select(conv.key);
        actions.picked();
      },
    },
    [
      h('span', { class: 'conv-name', text: label }),
      conv.unread > 0
        ? h('span', { class: 'badge', testid: 'unread', text: conv.unread > 99 ? '99+' : conv.unread })
        : null,
    ],
  );
  return h(
    'li',
    {
      class: 'conv-item',
      testid,
      data: {
        key: conv.key,
        ...(conv.kind === 'room' ? { room: conv.id } : { nick: conv.id }),
        current: conv.key === current,
        unread: conv.unread,
        mention: conv.mention,
        joined: conv.kind === 'room' ? conv.joined : true,
      },
    },
    [button],
  );
}

/** The server's room list (when open): one row per room, a Join button, and "more". */
function serverRoomItems(client: Client, actions: SidebarActions, state: State): HTMLElement[] {
  const list = state.serverRooms;
  if (list === null) return [h('li', { class: 'muted', text: 'loading…' })];
  if (list.length === 0)
    return [h('li', { class: 'muted', text: state.serverRoomsFilter ? 'no room matches' : 'no rooms yet' })];
  const rows = list.map((r) =>
    h('li', { testid: 'server-room', data: { room: r.room_id } }, [
      h('span', { class: 'conv-name', text: `#${r.room_id}`, title: r.room_name }),
      h('span', { class: 'muted', text: `${r.members} online` }),
      state.convs.get(roomKey(r.room_id))?.joined
        ? h('span', { class: 'muted', text: 'joined' })
        : h('button', {
            type: 'button',
            class: 'small-button',
            text: 'Join',
            onclick: () => {
              client.joinRoom(r.room_id);
              actions.closeSidebar();
            },
          }),
    ]),
  );
  if (state.serverRoomsCursor) {
    rows.push(
      h('li', {}, [
        h('button', {
          type: 'button',
          class: 'link-button',
          testid: 'browse-more',
          text: 'More rooms…',
          onclick: () => client.moreRooms(),
        }),
      ]),
    );
  }
  return rows;
}

/** Renders the sidebar: joined rooms, direct conversations and, when open, the server's rooms. */
export function renderSidebar(
  el: Elements,
  client: Client,
  actions: SidebarActions,
  browseOpen: boolean,
): void {
  const state = client.state;
  const rooms: HTMLElement[] = [];
  const dms: HTMLElement[] = [];
  for (const conv of state.convs.values()) {
    if (conv.kind === 'room') rooms.push(convItem(client, actions, conv, state.current, 'room-item'));
    else dms.push(convItem(client, actions, conv, state.current, 'dm-item'));
  }
  el.roomList.replaceChildren(...rooms);
  el.dmList.replaceChildren(...dms);
  el.dmSection.hidden = dms.length === 0;
  el.serverRooms.hidden = !browseOpen;
  el.browseFilter.hidden = !browseOpen;
  el.browse.textContent = browseOpen ? 'Hide server rooms' : 'Browse server rooms';
  if (browseOpen) el.serverRooms.replaceChildren(...serverRoomItems(client, actions, state));
}
