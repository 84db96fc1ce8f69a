// parley.d.ts — types of web/sdk/parley.js, Parley's publish/subscribe SDK (docs/PUBSUB.md "SDK").

export type FeedType = 'video' | 'screen' | 'audio';

export interface ConnectOptions {
  /** The session to join (made by the first join). */
  sid: string;
  /** A WEB_ONLY API key bound to this page's origin (or a jwt). */
  key?: string;
  /** A JWT signed with the account's secret, or a function giving a fresh one (asked again at each fresh join). */
  jwt?: string | (() => string | Promise<string>);
  /** This participant's id; the server makes one when absent. */
  uid?: string;
  name?: string;
  meta?: unknown;
}

export interface Participant { uid: string; name?: string; meta?: unknown }
export interface Feed { feed_id: string; uid: string; type: FeedType }
export interface Recording { rec_id: string; feed_id: string }

export interface EventMap {
  participantJoined: Participant;
  participantLeft: { uid: string };
  /** replaces: after a fresh join, the feed id this one took over (rendered into the same element). */
  publisher: Feed & { replaces?: string };
  publisherLeft: { uid: string; feed_id: string };
  speaker: { uid: string };
  /** channel: it came over the data channel (binary: payload is an ArrayBuffer; reliable: which channel). */
  data: { from: string; payload: unknown; channel?: boolean; binary?: boolean; reliable?: boolean };
  /** A recording's first frame is written (to everyone in the session). */
  recordingStarted: { rec_id: string; feed_id: string };
  /** A recording's file is closed (ok) or failed (reason); its upload and webhook follow. */
  recordingStopped: {
    rec_id: string; feed_id: string; ok: boolean; bytes: number; duration_ms: number; reason?: string;
  };
  /** timeout: ms until this attempt (0.25 s doubling to 5 s). */
  reconnecting: { timeout: number; attempt: number };
  /** resumed: the server kept the participant; feeds: own feed ids that changed, old to new. */
  reconnected: { resumed: boolean; feeds: Record<string, string> };
  /** reason: 'left' (leave()) or 'refused' (a fresh join was refused: error says why). */
  disconnected: { reason: 'left' | 'refused'; error?: ParleyError };
  error: ParleyError;
}

export type EventName = keyof EventMap;

export declare const events: { readonly [K in EventName]: K };

/** code: the server's (BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, NOT_JOINED, ALREADY_JOINED,
 * LIMIT, INTERNAL) or the SDK's (NETWORK, TIMEOUT, CLOSED, MEDIA). */
export declare class ParleyError extends Error {
  constructor(code: string, message: string);
  readonly code: string;
}

export declare class Session {
  readonly cid: string;
  readonly sid: string;
  readonly uid: string;
  /** 'connected' | 'reconnecting' | 'closed' */
  readonly state: string;
  /** The other participants. */
  readonly participants: Participant[];
  /** Feeds the others publish. */
  readonly feeds: Feed[];
  /** Publishes the stream's audio and/or video as one feed; a 'video' feed in three simulcast layers. */
  publish(stream: MediaStream, opts?: { type?: FeedType; el?: HTMLMediaElement }): Promise<string>;
  unpublish(feedId: string): Promise<void>;
  /** Renders the feed into el; el's drawn size picks the simulcast layer. */
  subscribe(feedId: string, el?: HTMLMediaElement): Promise<MediaStream>;
  unsubscribe(feedId: string): Promise<void>;
  /** JSON over the WebSocket; with `reliable` given, or binary data, over the publish
   * connection's data channel (reliable, or unordered without retransmissions). */
  send(data: unknown, opts?: { to?: string; reliable?: boolean; binary?: boolean }): Promise<void>;
  /** Records feeds (null: every feed of the session), each into its own file, PUT to uploadUrl
   * ({rec_id}, {feed_id}, {uid}, {sid} replaced per file) with one webhook per file. Needs the
   * key's recording scope or the JWT's can_record (FORBIDDEN otherwise). */
  startRecording(
    feedIds: string[] | null | undefined,
    opts: { uploadUrl: string; webhookUrl?: string },
  ): Promise<Recording[]>;
  /** Stops recordings (null: every recording of the session). */
  stopRecording(recIds?: string[] | null): Promise<void>;
  leave(): Promise<void>;
  on<K extends EventName>(name: K, cb: (data: EventMap[K]) => void): this;
  off<K extends EventName>(name: K, cb?: (data: EventMap[K]) => void): this;
}

/** Joins a session; url is the server (https://host) or its WebSocket URL (wss://host/api/rtc/v1). */
export declare function connect(url: string, opts: ConnectOptions): Promise<Session>;

declare const Parley: {
  connect: typeof connect;
  events: typeof events;
  ParleyError: typeof ParleyError;
  Session: typeof Session;
};
export { Parley };
export default Parley;
