// Types for uetcd-node: a Dubbo-style registry and a live config centre on the etcd v2 keys API.
import { EventEmitter } from 'node:events';

export type RegistryErrorCode = 'EUNAVAILABLE' | 'EAUTH' | 'EINVAL' | 'ECLOSED' | 'ESERVER';

export class RegistryError extends Error {
  readonly name: 'RegistryError';
  /** Stable code for programs. */
  readonly code: RegistryErrorCode;
  /** etcd's JSON errorCode (100 key not found, 110 unauthorized, 401 history cleared, ...). */
  readonly errorCode?: number | string;
  /** HTTP status, when the server answered. */
  readonly status?: number;
  /** etcd index reported with the error, when any. */
  readonly index?: number;
}

export interface ConnectionOptions {
  /** Default 'http://127.0.0.1:2379'. A comma-separated string or an array; tried in turn. */
  endpoints?: string | string[];
  /** v2 basic auth; none when omitted. */
  username?: string;
  password?: string;
  /** true (default): failures reject. false: they resolve and are retried every retryPeriod. */
  check?: boolean;
  /** Per-call deadline in ms, all endpoints included. Default 5000. */
  requestTimeout?: number;
  /** Retry period and backoff cap in ms. Default 5000. */
  retryPeriod?: number;
}

export interface RegistryOptions extends ConnectionOptions {
  /** Root directory /<group>; a leading '/' is optional. Default 'dubbo'. */
  group?: string;
  /** Entry TTL in seconds, refreshed every ttl/3. Default 10. */
  ttl?: number;
  /** JSON file holding the last known lists (rewritten atomically). Default none. */
  cacheFile?: string;
}

export interface ListInfo {
  service: string;
  category: string;
  /** true when the list comes from cacheFile because the server could not be reached. */
  fromCache: boolean;
}

/** Gets the complete, sorted list of one category of one service; never a delta. */
export type Listener = (urls: string[], info: ListInfo) => void;

export type ResyncReason = 'history-cleared' | 'index-reset' | 'reconnect';

export interface RetryInfo {
  type: 'register' | 'unregister' | 'heartbeat' | 'subscribe' | 'lookup' | 'config';
  target: string;
}

export class Registry extends EventEmitter {
  constructor(options?: RegistryOptions);
  /** Registers a Dubbo URL (service = path or interface=, category = category= or providers). */
  register(url: string): Promise<void>;
  unregister(url: string): Promise<void>;
  /** target: a service name, '*', or a consumer URL whose category= lists the categories. */
  subscribe(target: string, listener: Listener): Promise<void>;
  /** Without a listener, removes every listener of the target. */
  unsubscribe(target: string, listener?: Listener): Promise<void>;
  /** Sorted URLs of the target's categories, read once. */
  lookup(target: string): Promise<string[]>;
  /** Deletes this process's entries at once, stops timers and sockets. */
  close(): Promise<void>;

  on(event: 'retry', fn: (err: RegistryError, info: RetryInfo) => void): this;
  on(event: 'reregister', fn: (url: string) => void): this;
  on(event: 'resync', fn: (info: { target: string; reason: ResyncReason }) => void): this;
  on(event: 'disconnect', fn: (err: RegistryError) => void): this;
  on(event: 'reconnect', fn: () => void): this;
  on(event: 'listenerError', fn: (err: unknown) => void): this;
  on(event: string | symbol, fn: (...args: any[]) => void): this;
}

export interface ConfigOptions extends ConnectionOptions {
  /** etcd directory holding the configuration. Default '/config'. */
  prefix?: string;
}

export class Config extends EventEmitter {
  constructor(options?: ConfigOptions);
  /** First load; createConfig() calls it. */
  load(): Promise<this>;
  /** nconf keys: 'db:host' = <prefix>/db/host; no key = everything. Synchronous. */
  get(key?: string): any;
  /** Objects become directories; every other value (arrays too) is stored as JSON text. */
  set(key: string, value: unknown): Promise<void>;
  clear(key?: string): Promise<void>;
  close(): Promise<void>;

  on(event: 'change', fn: (key: string, value: any, old: any) => void): this;
  on(event: 'retry', fn: (err: RegistryError, info: RetryInfo) => void): this;
  on(event: 'resync', fn: (info: { target: string; reason: ResyncReason }) => void): this;
  on(event: 'disconnect', fn: (err: RegistryError) => void): this;
  on(event: 'reconnect', fn: () => void): this;
  on(event: string | symbol, fn: (...args: any[]) => void): this;
}

export function createConfig(options?: ConfigOptions): Promise<Config>;

export interface UetcdStoreOptions extends ConfigOptions {
  type: 'uetcd';
}

/** The nconf store class registered as nconf.Uetcd (type 'uetcd'). */
export interface UetcdStore {
  readonly type: 'uetcd';
  readOnly: boolean;
  store: Record<string, any>;
  get(key?: string): any;
  set(key: string, value: unknown): boolean;
  merge(key: string, value: unknown): boolean;
  clear(key: string): boolean;
  loadSync(): Record<string, any>;
  load(callback?: (err: Error | null, data?: Record<string, any>) => void): Record<string, any> | void;
  /** Calls back when every write-through issued so far is done. */
  save(value: unknown, callback?: (err: Error | null, data?: Record<string, any>) => void): Promise<Record<string, any>>;
  close(): Promise<void>;
  on(event: 'change', fn: (key: string, value: any, old: any) => void): this;
  on(event: string, fn: (...args: any[]) => void): this;
}

export type UetcdStoreClass = new (options: UetcdStoreOptions) => UetcdStore;

/** Registers store type 'uetcd' on the given nconf (nconf.Uetcd) and returns it. */
export function attachNconf(nconf: any): UetcdStoreClass;
