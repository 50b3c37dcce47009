/** The part of irc-framework (no types of its own) the IRC door's tests use. */
declare module 'irc-framework' {
  import { EventEmitter } from 'node:events';

  export interface IrcEvent {
    nick: string;
    target: string;
    message: string;
    type?: string;
    tags: Record<string, string>;
    [key: string]: unknown;
  }

  export class Client extends EventEmitter {
    constructor(options?: Record<string, unknown>);
    user: { nick: string };
    network: { cap: { enabled: string[] } };
    connect(options: Record<string, unknown>): void;
    join(channel: string, key?: string): void;
    part(channel: string, message?: string): void;
    say(target: string, message: string): void;
    action(target: string, message: string): void;
    ctcpRequest(target: string, type: string, ...params: string[]): void;
    raw(line: string): void;
    requestCap(cap: string | string[]): void;
    quit(message?: string): void;
    whois(nick: string, cb?: (event: Record<string, unknown>) => void): void;
  }
}
