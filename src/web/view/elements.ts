import { byTestId } from './dom.js';

/** The fixed elements of index.html the view fills and listens to. */
export function findElements() {
  return {
    app: byTestId('app'),
    title: byTestId('conv-title'),
    meta: byTestId('conv-meta'),
    status: byTestId('status'),
    roomList: byTestId('room-list'),
    dmSection: byTestId('dm-section'),
    dmList: byTestId('dm-list'),
    joinForm: byTestId<HTMLFormElement>('join-form'),
    joinInput: byTestId<HTMLInputElement>('join-input'),
    browse: byTestId<HTMLButtonElement>('browse-rooms'),
    browseFilter: byTestId<HTMLInputElement>('browse-filter'),
    serverRooms: byTestId('server-room-list'),
    me: byTestId('me'),
    scroller: byTestId('message-scroller'),
    list: byTestId('message-list'),
    loadOlder: byTestId<HTMLButtonElement>('load-older'),
    newBelow: byTestId<HTMLButtonElement>('new-below'),
    composer: byTestId<HTMLFormElement>('composer'),
    input: byTestId<HTMLInputElement>('message-input'),
    overlay: byTestId('nick-overlay'),
    nickForm: byTestId<HTMLFormElement>('nick-form'),
    nickInput: byTestId<HTMLInputElement>('nick-input'),
    nickError: byTestId('nick-error'),
    passwordField: byTestId('password-field'),
    passwordInput: byTestId<HTMLInputElement>('nick-password'),
    nickSubmit: byTestId<HTMLButtonElement>('nick-submit'),
    menu: byTestId<HTMLButtonElement>('menu-toggle'),
    scrim: byTestId('scrim'),
  };
}

/** The page's fixed elements, by role. */
export type Elements = ReturnType<typeof findElements>;
