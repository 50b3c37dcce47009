import type { Conv, Item } from '../state/types.js';
import { h } from './dom.js';
import type { Elements } from './elements.js';
import { formatTime, nickHue } from './format.js';

/** One line of a conversation as an element. */
export function lineElement(item: Item): HTMLElement {
  const time = h('time', {
    class: 'time',
    text: formatTime(item.ts),
    datetime: new Date(item.ts).toISOString(),
    title: new Date(item.ts).toLocaleString(),
  });
  if (item.kind === 'notice') {
    return h(
      'li',
      { class: `line notice${item.mono ? ' mono' : ''}`, testid: 'notice', data: { tone: item.tone } },
      [
        time,
        h('span', { class: 'marker', text: item.tone === 'error' ? '!' : '*', 'aria-hidden': 'true' }),
        h('span', { class: 'text', testid: 'notice-text', text: item.text }),
      ],
    );
  }
  // An action reads `* alice waves`: the star before the nick, no colon after it.
  const nick = h('span', {
    class: 'nick',
    testid: 'message-nick',
    text: item.msgKind === 'action' ? `* ${item.nick}` : item.nick,
  });
  nick.style.setProperty('--hue', String(nickHue(item.nick)));
  return h(
    'li',
    {
      class: `line message${item.mine ? ' mine' : ''}${item.mention ? ' mention' : ''}${item.msgKind === 'action' ? ' action' : ''}`,
      testid: 'message',
      data: { kind: item.kind, nick: item.nick, ...(item.seq !== undefined ? { seq: item.seq } : {}) },
    },
    item.msgKind === 'topic'
      ? [
          time,
          nick,
          h('span', {
            class: 'text topic',
            testid: 'message-text',
            text: item.text === '' ? 'cleared the topic' : `set the topic: ${item.text}`,
          }),
        ]
      : [time, nick, h('span', { class: 'text', testid: 'message-text', text: item.text })],
  );
}

/**
 * The message list of the conversation on screen. It appends what is new rather than rebuilding,
 * follows the bottom while the reader is there, and otherwise counts what arrived below.
 */
export class MessageList {
  private rendered: { key: string | null; epoch: number; count: number } = { key: null, epoch: -1, count: 0 };
  private unseenBelow = 0;
  /** Set when the reader sent a line: the list follows it down whatever the scroll position. */
  stickToBottom = false;

  constructor(private readonly el: Elements) {
    el.newBelow.addEventListener('click', () => {
      el.scroller.scrollTop = el.scroller.scrollHeight;
    });
    el.scroller.addEventListener('scroll', () => {
      if (this.atBottom()) {
        this.unseenBelow = 0;
        el.newBelow.hidden = true;
      }
    });
  }

  private atBottom(): boolean {
    const s = this.el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  render(conv: Conv | undefined): void {
    const { el, rendered } = this;
    const wasAtBottom = this.stickToBottom || this.atBottom();
    this.stickToBottom = false;
    if (!conv) {
      el.list.replaceChildren();
      el.loadOlder.hidden = true;
      this.rendered = { key: null, epoch: -1, count: 0 };
      return;
    }
    el.loadOlder.hidden = !(conv.kind === 'room' && conv.hasMore);
    if (rendered.key !== conv.key || rendered.epoch !== conv.epoch || rendered.count > conv.items.length) {
      const switched = rendered.key !== conv.key;
      const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
      el.list.replaceChildren(...conv.items.map(lineElement));
      this.rendered = { key: conv.key, epoch: conv.epoch, count: conv.items.length };
      if (switched || wasAtBottom) el.scroller.scrollTop = el.scroller.scrollHeight;
      else el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom; // keep place after "load older"
      this.unseenBelow = 0;
      el.newBelow.hidden = true;
      return;
    }
    if (rendered.count === conv.items.length) return;
    const added = conv.items.slice(rendered.count);
    el.list.append(...added.map(lineElement));
    rendered.count = conv.items.length;
    if (wasAtBottom) {
      el.scroller.scrollTop = el.scroller.scrollHeight;
    } else {
      this.unseenBelow += added.filter((i) => i.kind !== 'notice').length;
      el.newBelow.hidden = this.unseenBelow === 0;
      el.newBelow.textContent = `${this.unseenBelow} new ${this.unseenBelow === 1 ? 'message' : 'messages'} below ↓`;
    }
  }
}
