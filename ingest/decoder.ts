import type { SourceLine } from './sources/lines.ts';
import { interpretAuditEvent } from './audit/interpret.ts';
import type { AuditEvent } from './audit/reassemble.ts';
import { AuditReassembler } from './audit/reassemble.ts';
import type { AuditRecord } from './audit/record.ts';
import { parseAuditRecord, rawJson } from './audit/record.ts';
import { BlockAssembler } from './blocks/assembler.ts';
import type { FinishedBlock } from './blocks/assembler.ts';
import { Counters, deadLetter } from './dead-letter.ts';
import type { DeadLetter } from './dead-letter.ts';
import type { Format } from './detect.ts';
import { STRICT_FORMATS, isGlogAudit, sniffFormat } from './detect.ts';
import { JournalExportFramer, journalEntry, parseJournalJson } from './envelope/journal.ts';
import type { Joined } from './envelope/continuation.ts';
import { LineJoiner } from './envelope/continuation.ts';
import { journalBanner } from './envelope/journal-banner.ts';
import { parseKmsg, splitKernelStamp } from './envelope/kmsg.ts';
import type { Envelope, EnvelopeResult } from './envelope/message.ts';
import { unwrapShipped } from './envelope/shipped.ts';
import { parseSyslog } from './envelope/syslog.ts';
import type { Source } from './event.ts';
import { ECS_VERSION, NormalizedEvent } from './event-check.ts';
import { containerIdsIn, isContainerRef, isHexId } from './ids.ts';
import { linesOf } from './event-json.ts';
import { IdsAfter, eventId, fingerprint } from './source-identity.ts';
import { goCrash } from './blocks/go-crash.ts';
import { parseCtrEvent, parseDockerEvent } from './runtime/events.ts';
import type { Draft } from './readers/draft.ts';
import { KERNEL_BLOCKS, LINE_READERS, PASTE_BLOCKS, PROGRAM_BLOCKS } from './readers/index.ts';
import type { ContainerEventLine } from './runtime/events.ts';
import { isKlogText, parseKlogJson, parseKlogText } from './runtime/klog.ts';
import { parseLogfmtLine, parseLogrusJson, parseLogrusTty } from './runtime/logrus.ts';
import type { LogrusLine } from './runtime/logrus.ts';
import { parseTaskPayload } from './runtime/payload.ts';
import { matchTruncated } from './runtime/truncated.ts';
import { matchWording } from './runtime/wordings.ts';
import type { Nanos } from './time/instant.ts';
import { formatNanos } from './time/instant.ts';
import type { ClockConfig, TimeBasis } from './time/node-clock.ts';
import { NodeClock } from './time/node-clock.ts';
import { TimePlacer } from './time/placement.ts';
import type { LocalClock } from './time/syslog-time.ts';
import { resolveClock } from './time/syslog-time.ts';

/** 2000-01-01T00:00:00Z: no audit record of a real node is older. */
const AUDIT_EPOCH_FLOOR_MS = 946_684_800_000;

/** A multi-line report with no new line for this long (wall clock, while following) is complete. */
const BLOCK_IDLE_MS = 5000;

/** The host name used when neither the input nor its lines name one. */
export const UNKNOWN_HOST = 'unknown';

export type DecoderOptions = {
  /** Host name for inputs whose lines carry none (audit.log without node=, a daemon's own log file). */
  host?: string;
  clock?: ClockConfig;
  /** Absolute boot time of the node, to place `[  123.456]` kernel stamps; without it they stay relative. */
  bootNs?: Nanos;
  reassembler?: { maxInFlight: number; timeoutSeconds: number };
  /** Longest line kept whole; longer ones go to the dead letters with their first bytes. */
  maxLineBytes?: number;
  /**
   * Decides, before an audit event is interpreted, whether it is wanted at all (analyze wants only
   * what can be evidence: audit/triage.ts). One it does not want is counted
   * (`audit_events_unwanted`), never built into an event.
   */
  wantAudit?: (ev: AuditEvent<unknown>) => boolean;
  /**
   * Decides, once a daemon's line is read and its wording matched (or not), whether it is wanted as
   * an event (analyze wants only what can be evidence). One it does not want is counted
   * (`runtime_lines_unwanted`), never built.
   */
  wantRuntimeLine?: (msg: string, matched: boolean, level: string | undefined) => boolean;
  /**
   * Audit records reassembled per input, and an input's open events let go when it ends. For
   * inputs read side by side (ingest/interleave.ts): a newer audit.log's first lines read beside
   * audit.log.1 would otherwise settle audit.log.1's open event before its last records came.
   * Off (followers, inputs read one after the other), one reassembler per node joins records
   * across inputs, as a log rotated in the middle of an event needs.
   */
  auditPerInput?: boolean;
  /**
   * The caller writes each event and lets go of it at once (decode): an audit event's original is
   * its records' lines put together without copying them, which keeps the input's read chunk
   * alive while the event is. Off, it is a string of its own, as events kept for long need.
   */
  transient?: boolean;
};

/**
 * One input. `key` is its identity in event ids; given by a follower that resumes mid-file (it
 * read the first line itself), otherwise the decoder takes it from the line at offset 0.
 */
export type InputRef = { id: string; path?: string; format?: Format; host?: string; key?: string };

/** Where a line was read; `src` is the input's identity (see source-identity.ts). */
type Where = { input: InputRef; src: string; offset: number; line: number };
/** A line's time; `from` is the offset of the line that carried it (the line itself, or the predecessor it was taken from). */
type Stamp = { ns: Nanos; basis: TimeBasis; yearInferred?: boolean; offsetMinutes?: number; provisional?: true; bootNs?: Nanos; noClock?: true };

/** A line's time as a follower saves it beside its position (JSON: the nanoseconds as a string). */
export type SavedStamp = {
  ns: string;
  basis: TimeBasis;
  yearInferred?: boolean;
  offsetMinutes?: number;
  /** UTC offsets learned per node from zoned lines: unzoned syslog lines after a restart are read with them. */
  zones?: Record<string, number>;
};

const EVENT_COUNTERS = new Map<string, string>();
const NO_META: Readonly<Record<string, string>> = Object.freeze({});

/** At most this many nodes' learned offsets are saved beside one position. */
const MAX_SAVED_ZONES = 64;

/** Where to read an input again after a restart, and the time a line without one takes there. */
export type ResumePoint = { offset: number | undefined; stamp: SavedStamp | undefined };
type LineCtx = Where & { env: Envelope; stamp: Stamp; host: string; original: string };

type InputState = { ref: InputRef; key: string | undefined; format: Format | undefined; exportFramer?: JournalExportFramer; lastStamp?: Stamp; banner?: Banner };

/**
 * Source lines in, normalized events out: envelope (syslog / journald / kmsg) → payload decoder
 * (audit record, logrus, klog, container event, kernel text) → assemblers (audit events,
 * multi-line reports) → one NormalizedEvent each. Bad input goes to `onDeadLetter`; nothing is dropped.
 */
export class Decoder {
  readonly counters = new Counters();
  private readonly inputs = new Map<string, InputState>();
  private readonly clocks = new Map<string, NodeClock>();
  private readonly audit: AuditReassembler<LineCtx>;
  /** With `auditPerInput`: one reassembler per input id. */
  private readonly auditByInput = new Map<string, AuditReassembler<LineCtx>>();
  private readonly goBlocks = new BlockAssembler<LineCtx>(PROGRAM_BLOCKS);
  private readonly kernelBlocks = new BlockAssembler<LineCtx>(KERNEL_BLOCKS);
  /** Lines of no known program (a pasted report, a raw file): any kind of report may start there. */
  private readonly anyBlocks = new BlockAssembler<LineCtx>(PASTE_BLOCKS);
  /** Crash dumps relayed inside logfmt lines' msg= (see payload). */
  private readonly relayBlocks = new BlockAssembler<LineCtx>(PROGRAM_BLOCKS);
  readonly maxLineBytes: number;
  /** Records broken over several lines, joined (envelope/continuation.ts). */
  private readonly joiner: LineJoiner<Where>;
  /** Events whose input did not say when they happened, until it does (time/placement.ts). */
  private readonly placer: TimePlacer<LineCtx>;
  /** The ids of the last node's audit events (see auditIds). */
  private lastAuditIds: { host: string; node: string; ids: IdsAfter } | undefined;

  constructor(
    private readonly onEvent: (e: NormalizedEvent) => void,
    private readonly onDeadLetter: (d: DeadLetter) => void,
    private readonly opts: DecoderOptions = {},
  ) {
    this.audit = new AuditReassembler<LineCtx>((e) => this.emitAudit(e), opts.reassembler);
    this.maxLineBytes = opts.maxLineBytes ?? 1 << 20;
    this.joiner = new LineJoiner<Where>((id, r) => this.joined(id, r), this.maxLineBytes);
    this.placer = new TimePlacer<LineCtx>((e) => this.send(e), opts.clock?.referenceNs ?? BigInt(Date.now()) * 1_000_000n, (host) => ({ anchorNs: this.clocks.get(host)?.anchorNs(), offsetMinutes: this.clocks.get(host)?.learnedOffsetMinutes }));
  }

  get reassemblerStats() {
    if (this.auditByInput.size === 0) return this.audit.stats;
    const sum = { ...this.audit.stats };
    for (const a of this.auditByInput.values()) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += a.stats[k];
    return sum;
  }

  private reassemblerFor(inputId: string): AuditReassembler<LineCtx> {
    if (!this.opts.auditPerInput) return this.audit;
    let a = this.auditByInput.get(inputId);
    if (!a) this.auditByInput.set(inputId, (a = new AuditReassembler<LineCtx>((e) => this.emitAudit(e), this.opts.reassembler)));
    return a;
  }

  private get reassemblers(): AuditReassembler<LineCtx>[] {
    return [this.audit, ...this.auditByInput.values()];
  }

  /** One line as a source read it: whole, over the length limit, or not valid UTF-8. */
  pushSource(ref: InputRef, l: SourceLine): void {
    if (l.kind === 'line') this.pushLine(ref, l.text, l.offset, l.lineNo);
    else if (l.kind === 'oversize') this.pushOversize(ref, l.head, l.length, l.offset, l.lineNo);
    else this.pushInvalidUtf8(ref, l.raw, l.offset, l.lineNo);
  }

  /** One line of an input (without its newline). `raw` is given when the bytes were not valid text. */
  pushLine(ref: InputRef, text: string, offset: number, lineNo: number): void {
    this.counters.inc('lines');
    const input = this.input(ref);
    input.key ??= inputKey(ref, offset, () => Buffer.from(text, 'utf8'));
    const where: Where = { input: ref, src: input.key, offset, line: lineNo };
    if (input.format === 'journal-export' || (input.format === undefined && (text.startsWith('__CURSOR=') || text.startsWith('__REALTIME_TIMESTAMP=')))) {
      input.format = 'journal-export';
      this.pushExport(input, Buffer.from(text, 'utf8'), where);
      return;
    }
    // (a line that starts with a printable character is not blank: no trim per line)
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim().length === 0)) return this.joiner.flush(ref.id);
    if (text.includes('\0')) {
      this.dead('binary', 'line contains NUL bytes: binary data, not a log line', text, where);
      return;
    }
    if (input.format === undefined) input.format = ref.format ?? sniffFormat(text);
    let format = input.format;
    // A paste is many shapes in one input (a command, its output, a log excerpt): with no format
    // forced, each line of an unframed input is recognised on its own. A daemon's own logfmt lines
    // need no look.
    if (format === 'raw' && ref.format === undefined && !text.startsWith('time=') && !text.startsWith('level=')) {
      let own = sniffFormat(text);
      // a line indented or quoted by the ticket it was pasted in (`\tMay 31 15:26:23 host …`,
      // `> E0730 …`) is still the line it quotes; a Go frame's own tab is not a quote
      const c0 = text.charCodeAt(0);
      // `talosctl logs` and kubectl node-log tools put the node before each line: `node-2.internal: {…}`
      const node = own === 'raw' ? /^([\w.-]{1,253}): (?=\{"|time=")/.exec(text) : null;
      if (node) {
        text = text.slice(node[0].length);
        own = 'raw';
      } else if (own === 'raw' && (c0 === 9 || c0 === 32 || c0 === 62 || c0 === 36 || c0 === 35 || c0 === 96)) {
        // a shell prompt (`$ `, `# `) before a line that was only printed by the command is no part
        // of it; nor are the backticks of markdown's inline code around a whole line
        let unquoted = text.replace(/^(?:>[ \t]?|[$#] |[ \t])+/, '');
        if (unquoted.charCodeAt(0) === 96) unquoted = unquoted.replace(/^`+/, '').replace(/`+\s*$/, '');
        const inner = sniffFormat(unquoted);
        if (inner !== 'raw' || /^[IWEF]\d{4} |^time="|^[A-Z]{4}\[/.test(unquoted)) {
          text = unquoted;
          own = inner;
        }
      }
      if (own !== 'journal-export') format = own;
    }
    let env = this.envelope(format, text);
    if (!env.ok) {
      const other = sniffFormat(text);
      const retry = other !== format ? this.envelope(other, text) : env;
      if (!retry.ok || (STRICT_FORMATS.has(format) && other === 'raw')) {
        this.dead(env.reason, `${format} input: ${env.message}`, text, where);
        return;
      }
      format = other;
      env = retry;
    }
    if (env.env.meta?.framing !== undefined) {
      this.counters.inc('framing_lines');
      if (env.env.time?.kind === 'absolute') input.banner = { ns: env.env.time.ns, offsetMinutes: env.env.time.offsetMinutes, hosts: new Set() };
      return;
    }
    if (!this.joiner.take(ref.id, format, env.env, text, where)) this.payload(input, format, env.env, text, where);
  }

  /** A line longer than maxLineBytes: its head goes to the dead letters. */
  pushOversize(ref: InputRef, head: Buffer, length: number, offset: number, lineNo: number): void {
    this.counters.inc('lines');
    const input = this.input(ref);
    input.key ??= inputKey(ref, offset, () => head);
    this.dead('oversize', `line of ${length} bytes exceeds the ${this.maxLineBytes}-byte limit`, head, { input: ref, src: input.key, offset, line: lineNo }, length);
  }

  /** A line that is not valid UTF-8. */
  pushInvalidUtf8(ref: InputRef, raw: Buffer, offset: number, lineNo: number): void {
    this.counters.inc('lines');
    const input = this.input(ref);
    input.key ??= inputKey(ref, offset, () => raw);
    const where: Where = { input: ref, src: input.key, offset, line: lineNo };
    if (input.format === 'journal-export') {
      // binary field data in the export format is bytes, not text
      this.pushExport(input, raw, where);
      return;
    }
    this.dead('invalid-utf8', 'line is not valid UTF-8', raw, where);
  }

  /** The input has ended (a file read to its end, a rotated generation): its state can go. */
  endInput(ref: InputRef): void {
    this.joiner.flush(ref.id);
    const input = this.inputs.get(ref.id);
    if (input?.exportFramer) {
      const entry = input.exportFramer.end();
      if (entry) this.exportEntry(input, entry, { input: ref, src: input.key ?? `id:${ref.id}`, offset: -1, line: -1 });
    }
    this.inputs.delete(ref.id);
    const mine = (stream: string) => stream.endsWith(`\0${ref.id}`);
    for (const a of [this.goBlocks, this.kernelBlocks, this.anyBlocks, this.relayBlocks]) for (const b of a.flushStreams(mine)) this.emitBlock(b);
    this.auditByInput.get(ref.id)?.flush();
    this.placer.endInput(ref.id);
  }

  /** End of all input: let go of open audit events and reports. */
  end(): void {
    this.joiner.flushAll();
    for (const a of this.reassemblers) a.flush();
    for (const b of [...this.goBlocks.flush(), ...this.kernelBlocks.flush(), ...this.anyBlocks.flush(), ...this.relayBlocks.flush()]) this.emitBlock(b);
    this.placer.releaseAll();
  }

  /**
   * Where a follower must start reading this input again after a restart: before any line the
   * decoder still holds (an audit event waiting for its last record, a report not ended), which
   * has produced no event yet (undefined: nothing held). With it, the time in effect there, which
   * lines without a time of their own (a panic dump in a raw daemon log) take: saved beside the
   * position and given back by `primeInput`.
   */
  resumePoint(inputId: string): ResumePoint {
    // a record waiting for lines it may go on over is let go where the follower saves its place
    this.joiner.flush(inputId);
    let held: LineCtx | undefined;
    const see = (c: LineCtx) => {
      if (c.input.id === inputId && c.offset >= 0 && (held === undefined || c.offset < held.offset)) held = c;
    };
    for (const a of this.reassemblers) for (const c of a.openOrigins()) see(c);
    for (const c of this.placer.heldCtx()) see(c);
    for (const a of [this.goBlocks, this.kernelBlocks, this.anyBlocks, this.relayBlocks]) for (const c of a.openFirsts()) see(c);
    // a held line that took its predecessor's time took exactly this one
    const stamp = held ? held.stamp : this.inputs.get(inputId)?.lastStamp;
    if (!stamp) return { offset: held?.offset, stamp: undefined };
    const saved = saveStamp(stamp);
    for (const [host, clock] of this.clocks) {
      const offset = clock.learnedOffsetMinutes;
      if (offset === undefined) continue;
      saved.zones ??= {};
      if (Object.keys(saved.zones).length >= MAX_SAVED_ZONES) break;
      saved.zones[host] = offset;
    }
    return { offset: held?.offset, stamp: saved };
  }

  /** A follower resuming mid-input: the time its next line without one takes (see resumePoint). */
  primeInput(ref: InputRef, saved: SavedStamp): void {
    const stamp: Stamp = { ns: BigInt(saved.ns), basis: saved.basis };
    if (saved.yearInferred) stamp.yearInferred = true;
    if (saved.offsetMinutes !== undefined) stamp.offsetMinutes = saved.offsetMinutes;
    this.input(ref).lastStamp = stamp;
    for (const [host, offset] of Object.entries(saved.zones ?? {})) this.clock(host).adopt(offset);
  }

  /**
   * Per node, the latest instant read that is tied to the wall clock: what a decoder on another
   * thread (analyze's workers, which read audit logs) hands to this one with `observe`.
   */
  anchors(): Map<string, Nanos> {
    const out = new Map<string, Nanos>();
    for (const [host, clock] of this.clocks) {
      const ns = clock.anchorNs();
      if (ns !== undefined) out.set(host, ns);
    }
    return out;
  }

  /** An instant another decoder read on this node: its clock moves on as if this one had read it. */
  observe(host: string, ns: Nanos): void {
    this.clock(host).observe(ns);
  }

  /** For followers: time passes even when no line arrives. */
  tick(): void {
    this.joiner.flushAll();
    for (const a of this.reassemblers) a.expireIdle();
    for (const a of [this.goBlocks, this.kernelBlocks, this.anyBlocks, this.relayBlocks]) for (const b of a.expire(BLOCK_IDLE_MS)) this.emitBlock(b);
    this.placer.releaseAll();
  }

  // ---- envelopes ----

  private envelope(format: Format, text: string): EnvelopeResult {
    switch (format) {
      case 'syslog':
        return parseSyslog(text);
      case 'journal-json':
        return parseJournalJson(text);
      case 'kmsg':
        return parseKmsg(text);
      case 'audit':
        if (text.startsWith('time->') || text === '----') return { ok: true, env: { text, meta: { framing: 'ausearch' } } };
        return text.startsWith('type=') || text.startsWith('node=') || isGlogAudit(text) ? { ok: true, env: { text, app: 'audit' } } : { ok: false, reason: 'not-audit', message: 'line does not start with type= or node=' };
      case 'docker-events':
        return text.startsWith('{') ? { ok: true, env: { text, app: 'docker-events' } } : { ok: false, reason: 'not-docker-event', message: 'not a JSON object' };
      case 'ctr-events':
        return { ok: true, env: { text, app: 'ctr-events' } };
      case 'exit137':
        return text.startsWith('{') ? { ok: true, env: { text, app: 'exit137' } } : { ok: false, reason: 'not-exit137-json', message: 'not a JSON object' };
      case 'journal-export':
      case 'raw':
        return { ok: true, env: journalBanner(text) ?? { text } };
    }
  }

  private pushExport(input: InputState, line: Buffer, where: Where): void {
    input.exportFramer ??= new JournalExportFramer();
    const r = input.exportFramer.push(line);
    if (r.error) this.dead('journal-export', r.error, line, where);
    if (r.entry) this.exportEntry(input, r.entry, where);
  }

  private exportEntry(input: InputState, entry: Record<string, unknown>, where: Where): void {
    const env = journalEntry(entry);
    if (!env.ok) {
      this.dead(env.reason, env.message, JSON.stringify(entry), where);
      return;
    }
    this.payload(input, 'journal-export', env.env, String(entry.MESSAGE ?? ''), where);
  }

  /** A record the joiner let go: a line (joined or not), or a journal entry gathered from several lines. */
  private joined(id: string, r: Joined<Where>): void {
    const input = this.inputs.get(id);
    if (!input) return;
    if (r.kind === 'line') this.payload(input, r.format, r.env, r.text, r.where);
    else if (r.kind === 'entry') this.exportEntry(input, r.entry, r.where);
    else this.dead(r.reason, r.message, r.text, r.where);
  }

  // ---- payloads ----

  private payload(input: InputState, format: Format, env: Envelope, original: string, where: Where): void {
    const host = env.host ?? input.ref.host ?? this.opts.host ?? UNKNOWN_HOST;
    const clock = this.clock(host);
    if (input.banner !== undefined) adoptBanner(clock, host, input.banner);
    let text = env.text;
    // a kmsg-framed line with a tag of its own is that program's (journalctl -o short-monotonic)
    const isKernel = env.app === 'kernel' || (format === 'kmsg' && env.app === undefined);
    const kernelStamp = isKernel ? splitKernelStamp(text) : undefined;
    if (kernelStamp) text = kernelStamp.text;

    // Audit records: in audit.log, on the kernel console, or in journald.
    if (env.app === 'audit' || text.startsWith('type=') || text.startsWith('node=') || text.startsWith('audit: type=')) {
      this.auditRecord(input, env, text, original, where, host);
      return;
    }
    if (format === 'exit137') {
      this.ownEvent(text, original, where);
      return;
    }
    if (format === 'docker-events' || (format === 'raw' && text.startsWith('{') && sniffFormat(text) === 'docker-events')) {
      const r = parseDockerEvent(text);
      if (!r.ok) this.dead(r.reason, r.message, original, where);
      else this.containerEvent(r.event, env, original, where, env.host ?? r.event.host ?? host);
      return;
    }
    if (format === 'ctr-events') {
      const r = parseCtrEvent(text);
      if (!r.ok) this.dead(r.reason, r.message, original, where);
      else this.containerEvent(r.event, env, original, where, host);
      return;
    }

    // A shipper's or a log viewer's JSON around the program's own line: read the line inside.
    const c0 = text.charCodeAt(0);
    if ((c0 === 123 || (c0 >= 48 && c0 <= 57)) && format !== 'journal-json' && format !== 'journal-export') {
      const shipped = unwrapShipped(text);
      if (shipped) {
        const inner: Envelope = { ...env, text: shipped.text };
        if (shipped.time) inner.time = shipped.time;
        if (shipped.zoneless) inner.meta = { ...(env.meta ?? {}), zone: 'reader' };
        if (shipped.host && !env.host) inner.host = shipped.host;
        this.payload(input, 'raw', inner, original, where);
        return;
      }
    }

    // A single-line decode first: a logfmt line carries a zoned time that teaches the node's clock
    // before the envelope's wall-clock time is resolved.
    const logrus =
      // (`msg=` first: a logfmt line whose head a paste cut)
      text.startsWith('time=') || text.startsWith('level=') || (text.charCodeAt(0) === 109 && text.startsWith('msg="'))
        ? parseLogfmtLine(text)
        : /^[A-Z]{4}\[/.test(text)
          ? parseLogrusTty(text)
          : text.startsWith('{"') && text.includes('"msg":') && text.includes('"level":')
            ? parseLogrusJson(text)
            : undefined;
    if (logrus?.ok && logrus.line.ns !== undefined && env.time?.kind === 'wall') {
      // The prefix's wall clock and the line's own instant are the same moment: their difference
      // is the zone the syslog daemon writes in (not the zone of time=, which may well be Z).
      const offset = wallOffsetMinutes(env.time.clock, logrus.line.ns);
      if (offset !== undefined) clock.learn(logrus.line.ns, offset);
    }
    const stamp = this.stamp(input, env, clock, logrus?.ok ? logrus.line : undefined);
    const ctx = lineCtx(where, env, stamp, host, original);
    if (kernelStamp) noteKernelClock(this.placer, host, format, env, stamp, kernelStamp);

    const assembler = isKernel ? this.kernelBlocks : env.app === undefined ? this.anyBlocks : this.goBlocks;
    if (logrus?.ok) {
      // A logfmt line is never part of a dump: it closes whatever report the stream had open.
      if (assembler.openCount > 0) for (const b of assembler.close(streamKey(host, env.app, input.ref.id))) this.emitBlock(b);
      // …unless it relays one: wrappers (k0s, CRI-O's conmon) log a program's stderr line by line as
      // msg=, so a shim's crash dump arrives one logfmt line per dump line, in a stream of its own.
      const relay = streamKey(host, `relay\0${env.app ?? ''}`, input.ref.id);
      if (this.relayBlocks.isOpen(relay) || goCrash.starts(logrus.line.msg)) {
        const offered = this.relayBlocks.push(relay, logrus.line.msg, ctx);
        for (const b of offered.finished) this.emitBlock(b);
        if (offered.taken) return;
      }
    } else {
      const offered = assembler.push(streamKey(host, env.app, input.ref.id), text, ctx);
      for (const b of offered.finished) this.emitBlock(b);
      if (offered.taken) return;
    }

    if (logrus?.ok) {
      this.runtimeLine(logrus.line, ctx);
      return;
    }
    if (logrus && !logrus.ok && logrus.reason === 'bad-time') {
      this.dead('bad-time', logrus.message, original, where);
      return;
    }
    if (!isKernel) {
      const klog = isKlogText(text) ? parseKlogText(text) : text.startsWith('{"ts":') ? parseKlogJson(text) : undefined;
      if (klog?.ok) {
        const k = klog.line;
        let kstamp = stamp;
        if (k.ns !== undefined) kstamp = { ns: k.ns, basis: 'absolute' };
        else if (k.clock && env.time?.kind !== 'absolute') {
          kstamp = clock.resolve(k.clock) ?? kstamp;
        }
        this.runtimeLine({ msg: k.msg, fields: k.fields, level: k.level, form: 'logfmt' }, lineCtx(ctx, ctx.env, kstamp, ctx.host, ctx.original), 'kubelet');
        return;
      }
      // A CLI's line (an events row, a docker CLI error) is read by its shape first: its message
      // is one column of it, or comes after the CLI's own prefix.
      for (const reader of LINE_READERS) {
        if (!reader.detect(text)) continue;
        const r = reader.read(text);
        // a reader that finds nothing of its shape in the line leaves it to the next, never drops it
        if (r.ok && r.drafts.length === 0) continue;
        if (!r.ok) this.dead(r.reason, `${reader.name}: ${r.message}`, original, where);
        else for (let i = 0; i < r.drafts.length; i++) this.emitDraft(ctx, r.drafts[i]!, i === 0 ? positionKey(ctx) : `${positionKey(ctx)}#${i}`);
        return;
      }
      // A daemon's message with its envelope cut away (journalctl -o cat, a line quoted in a
      // ticket) still says what it says.
      const bare = bareMessage(text);
      if (matchWording(bare, NO_META) !== undefined) {
        this.runtimeLine({ msg: bare, fields: {}, form: 'bare' }, ctx);
        return;
      }
    }
    this.plainLine(text, ctx, isKernel);
  }

  private stamp(input: InputState, env: Envelope, clock: NodeClock, inner: LogrusLine | undefined): Stamp {
    let stamp: Stamp | undefined;
    if (inner?.ns !== undefined) {
      stamp = { ns: inner.ns, basis: 'absolute' };
      if (inner.offsetMinutes !== undefined) stamp.offsetMinutes = inner.offsetMinutes;
    } else if (env.time?.kind === 'absolute') {
      stamp = { ns: env.time.ns, basis: env.meta?.zone === 'reader' ? 'assumed' : 'absolute' };
      if (env.time.offsetMinutes !== undefined) stamp.offsetMinutes = env.time.offsetMinutes;
      clock.observe(env.time.ns);
    } else if (env.time?.kind === 'wall') {
      stamp = clock.resolve(env.time.clock);
    } else if (env.time?.kind === 'boot') {
      stamp = this.opts.bootNs !== undefined ? { ns: this.opts.bootNs + env.time.ns, basis: 'absolute' } : { ns: env.time.ns, basis: 'relative', bootNs: env.time.ns };
    }
    // A line with no time of its own (a panic frame in a daemon's raw log) takes its predecessor's.
    stamp ??= input.lastStamp ?? { ns: 0n, basis: 'relative', noClock: true };
    // the lines before the input's first time take it (time/placement.ts)
    if (input.lastStamp?.noClock && !stamp.noClock) this.placer.timeFound(input.ref.id, stamp);
    input.lastStamp = stamp;
    return stamp;
  }

  private auditRecord(input: InputState, env: Envelope, text: string, original: string, where: Where, host: string): void {
    const meta = env.meta ?? NO_META;
    let hints: { type?: string; epoch?: string; serial?: number } | undefined;
    if (meta._AUDIT_ID) {
      hints = { serial: Number(meta._AUDIT_ID) };
      if (meta._AUDIT_TYPE_NAME) hints.type = meta._AUDIT_TYPE_NAME;
      else if (meta._AUDIT_TYPE) hints.type = undefined;
      const us = meta._SOURCE_REALTIME_TIMESTAMP;
      if (us && /^\d+$/.test(us)) hints.epoch = `${us.slice(0, -6)}.${us.slice(-6, -3)}`;
    }
    const p = parseAuditRecord(text, hints, original);
    // a record a syslog or journal short rendering kept without its audit(epoch:serial): an event alone, at the line's time
    const lone = !p.ok && env.time !== undefined && !meta._AUDIT_ID ? parseAuditRecord(text, { epoch: '0', serial: 0 }, original) : undefined;
    if (lone?.ok) {
      const stamp = this.stamp(input, env, this.clock(host), undefined);
      this.emitAudit({ node: '', epoch: epochOf(stamp.ns), ns: stamp.ns, serial: where.line, records: [lone.record], origin: new AuditLineCtx(where, env, host, original, lone.record, stamp), closedByEoe: false });
      return;
    }
    if (!p.ok) {
      const why = env.app === 'audit' && !meta._AUDIT_ID && !text.includes('audit(') ? `${p.error.message} (journald short output drops audit serials; read the journal with -o json)` : p.error.message;
      this.dead(`audit-${p.error.reason}`, why, original, where);
      return;
    }
    const rec = p.record;
    // The kernel stamps audit records with the wall clock: one before 2000 is a stamp a paste cut
    // (`audit(12.243:…)` from `05/01/2025 13:07:12.243`), not an instant to date a kill by.
    if (rec.ms < AUDIT_EPOCH_FLOOR_MS) {
      this.dead('audit-implausible-time', `audit stamp ${rec.epoch} is before 2000: a cut or corrupted stamp`, original, where);
      return;
    }
    if (rec.node === undefined && host !== UNKNOWN_HOST && env.host) rec.node = env.host;
    this.clock(rec.node ?? host).observe(rec);
    this.reassemblerFor(where.input.id).push(rec, new AuditLineCtx(where, env, rec.node ?? host, original, rec));
  }

  // ---- events ----

  private emitAudit(ev: AuditEvent<LineCtx>): void {
    if (this.opts.wantAudit && !this.opts.wantAudit(ev)) {
      this.counters.inc('audit_events_unwanted');
      return;
    }
    const ctx = ev.origin;
    const a = interpretAuditEvent(ev);
    const host = ev.node || ctx.host;
    const e = this.base(ctx, host, 'auditd', a.kind, a.action, '', this.auditIds(host, ev.node).id(`${ev.epoch}:${ev.serial}`));
    e.event.category = ['process'];
    e.event.type = a.kind === 'audit-signal' ? ['end'] : ['info'];
    e.event.sequence = ev.serial;
    e.event.original = this.opts.transient ? linesTogether(ev.records) : ev.records.map((r) => r.raw).join('\n');
    linesOf(e.event.original, ev.records, rawJson);
    if (a.outcome) e.event.outcome = a.outcome;
    e.message = a.message;
    if (a.process) e.process = a.process;
    if (a.user) e.user = a.user;
    e.auditd = a.auditd;
    if (a.signal) e.exit137.signal = a.signal;
    if (a.target) e.exit137.target = a.target;
    if (a.container) e.container = a.container;
    if (a.relatedIds.length) e.exit137.related_ids = a.relatedIds;
    if (a.auditd.proctitle_truncated) e.tags.push('truncated');
    for (const w of a.auditd.warnings ?? []) this.counters.inc(`audit_warning_${w.split(' ')[0]}`);
    if (a.kind === 'audit' && !ev.records.some((r) => r.type === 'SYSCALL') && ev.records.some((r) => r.type === 'EXECVE' || r.type === 'OBJ_PID')) {
      e.tags.push('partial');
      this.counters.inc('audit_partial_events');
    }
    this.emit(e);
  }

  private runtimeLine(l: LogrusLine, ctx: LineCtx, forced?: Source): void {
    // a message a pager cut is matched by the beginning of its wording (runtime/truncated.ts)
    const match = matchWording(l.msg, l.fields) ?? (ctx.env.meta?.truncated ? matchTruncated(l.msg) : undefined);
    if (this.opts.wantRuntimeLine && !this.opts.wantRuntimeLine(l.msg, match !== undefined, l.level)) {
      this.counters.inc('runtime_lines_unwanted');
      return;
    }
    const source: Source = forced ?? sourceOf(match?.wording.component, ctx.env.app);
    const e = this.base(ctx, ctx.host, source, 'runtime-log', match ? match.wording.id : 'log-line', positionKey(ctx));
    if (ctx.env.meta?.truncated) e.tags.push('truncated');
    e.message = l.msg;
    if (l.level) e.log.level = l.level;
    if (Object.keys(l.fields).length) e.exit137.fields = l.fields;
    if (match) {
      e.exit137.message_id = match.wording.id;
      const c = match.captures;
      const f = l.fields;
      const payload = c.payload ? parseTaskPayload(c.payload, match.wording.id.startsWith('task-exit') ? '/tasks/exit' : undefined) : undefined;
      const raw = c.id ?? f.container ?? f.containerID ?? f.container_id ?? f.id ?? payload?.containerId;
      const id = cleanId(raw);
      // The docker API takes a name or an id in its path: only a hex one is an id.
      if (id && c.id !== undefined && match.wording.component === 'dockerd' && !isHexId(id)) e.container = { name: id };
      else if (id) e.container = { id };
      if (f.pod) {
        // the kubelet names pods `namespace/name`
        const slash = f.pod.indexOf('/');
        e.orchestrator = slash > 0 ? { namespace: f.pod.slice(0, slash), resource: { type: 'pod', name: f.pod.slice(slash + 1) } } : { resource: { type: 'pod', name: f.pod } };
      }
      if (f.containerName) e.container = { ...(e.container ?? {}), name: f.containerName };
      // a wording that names the container in its text (`Container X failed liveness probe`, podman's `(name=X)`)
      else if (c.name && isContainerRef(c.name)) e.container = { ...(e.container ?? {}), name: c.name };
      const code = payload?.exitStatus ?? num(f.exitCode) ?? num(c.exitCode);
      if (code !== undefined) {
        e.exit137.exit = { code };
        if (payload?.pid !== undefined) e.exit137.exit.pid = payload.pid;
        if (payload?.execId && payload.execId !== payload.containerId) e.exit137.exit.exec_id = payload.execId;
      }
      const sig = signalOf(c.signal);
      if (sig) e.exit137.signal = sig;
      const grace = durationSeconds(c.grace ?? f.gracePeriod);
      if (grace !== undefined) e.exit137.grace_seconds = grace;
      if (match.wording.id === 'docker-api-kill') {
        const q = /signal=(\w+)/.exec(c.query ?? '');
        e.exit137.signal = signalOf(q?.[1] ?? 'KILL');
      }
      e.event.category = ['process'];
      e.event.type = /exit|kill|stop|oom|finished|dead|reaped|disconnected|timeout/.test(match.wording.id) ? ['end'] : ['info'];
    }
    const related = containerIdsIn(`${l.msg} ${Object.values(l.fields).join(' ')}`).filter((x) => x !== e.container?.id);
    if (related.length) e.exit137.related_ids = related;
    this.emit(e);
  }

  /** An event exit137 wrote itself (decode output, collector samples): checked against the schema, passed on. */
  private ownEvent(text: string, original: string, where: Where): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      this.dead('bad-json', (e as Error).message, original, where);
      return;
    }
    const r = NormalizedEvent.safeParse(parsed);
    if (!r.success) {
      this.dead('schema', `not a valid exit137 event: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, original, where);
      return;
    }
    this.emit(r.data);
  }

  private containerEvent(c: ContainerEventLine, env: Envelope, original: string, where: Where, host: string): void {
    const stamp: Stamp = c.ns !== undefined ? { ns: c.ns, basis: 'absolute' } : { ns: 0n, basis: 'relative' };
    const ctx = lineCtx(where, env, stamp, host, original);
    // An event stream line carries its own nanosecond time and a live stream has no offsets that
    // survive a restart: the line itself is its identity, the same in a capture and when followed.
    const e = this.base(ctx, host, c.source, 'container-event', `container-${c.action}`, `${host}|${c.source}|${original}`);
    e.event.category = ['process'];
    e.event.type = ['die', 'kill', 'oom', 'stop', 'tasks-exit', 'tasks-oom', 'tasks-delete'].includes(c.action) ? ['end'] : ['info'];
    if (c.containerId) e.container = { id: c.containerId, runtime: c.source === 'docker-events' ? 'docker' : 'containerd' };
    if (c.name) e.container = { ...(e.container ?? {}), name: c.name };
    if (c.image) e.container = { ...(e.container ?? {}), image: { name: c.image } };
    if (c.exitCode !== undefined) e.exit137.exit = { code: c.exitCode };
    if (c.payload?.pid !== undefined && e.exit137.exit) e.exit137.exit.pid = c.payload.pid;
    if (c.payload?.execId && c.payload.execId !== c.payload.containerId && e.exit137.exit) e.exit137.exit.exec_id = c.payload.execId;
    if (c.signal !== undefined) e.exit137.signal = signalOf(String(c.signal))!;
    if (c.attributes && Object.keys(c.attributes).length) e.exit137.fields = c.attributes;
    e.message = `${c.action}${c.containerId ? ` ${c.containerId.slice(0, 12)}` : ''}${c.exitCode !== undefined ? ` exit ${c.exitCode}` : ''}`;
    this.emit(e);
  }

  private plainLine(text: string, ctx: LineCtx, isKernel: boolean): void {
    const e = this.base(ctx, ctx.host, isKernel ? 'kernel' : sourceOf(undefined, ctx.env.app), isKernel ? 'kernel' : 'log', isKernel ? 'kernel-message' : 'log-line', positionKey(ctx));
    e.message = text;
    const ids = containerIdsIn(text);
    if (ids.length) e.exit137.related_ids = ids;
    this.emit(e);
  }

  private emitBlock(b: FinishedBlock<LineCtx>): void {
    if (b.inner) {
      this.innerLines(b);
      return;
    }
    const first = b.lines[0]!.ctx;
    const id = positionKey(first);
    const original = b.lines.map((l) => l.ctx.original).join('\n');
    if (b.cut) this.counters.inc(`block_cut_${b.kind}`);
    for (let i = 0; i < b.drafts.length; i++) {
      const d = b.drafts[i]!;
      // a draft that names its lines (a table's row) is placed and keyed as those lines would be
      const own = d.lines ? b.lines[d.lines.from] : undefined;
      const e = own ? this.emitDraft(own.ctx, d, `${positionKey(own.ctx)}${i > 0 && b.drafts[i - 1]!.lines?.from === d.lines!.from ? `#${i}` : ''}`, false) : this.emitDraft(first, d, i === 0 ? id : `${id}#${i}`, false);
      e.event.original = own ? b.lines.slice(d.lines!.from, d.lines!.to + 1).map((l) => l.ctx.original).join('\n') : original;
      this.emit(e);
    }
  }

  /**
   * A report that holds lines of the input in their own right (a CLI's JSON of a log store's
   * records): each is read as a line where it begins, its id the input's and its index.
   */
  private innerLines(b: FinishedBlock<LineCtx>): void {
    for (let i = 0; i < b.inner!.length; i++) {
      const r = b.inner![i]!;
      const at = (b.lines[r.line] ?? b.lines[0]!).ctx;
      // a document that ends its input is finished after the input's state is let go
      const input = this.inputs.get(at.input.id) ?? { ref: at.input, key: at.input.key, format: 'raw' };
      this.payload(input, 'raw', { text: r.text }, r.text, { input: at.input, src: `${at.src}#${i}`, offset: at.offset, line: at.line });
    }
  }

  /**
   * A reader's draft as a normalized event: the parts every event shares from where it was read,
   * the facts from the draft. Emitted unless the caller still has to finish it.
   */
  private emitDraft(ctx: LineCtx, d: Draft, idKey: string, emit = true): NormalizedEvent {
    const at = d.at;
    const c = at ? lineCtx(ctx, ctx.env, at.offsetMinutes !== undefined ? { ns: at.ns, basis: at.basis, offsetMinutes: at.offsetMinutes } : { ns: at.ns, basis: at.basis }, ctx.host, ctx.original) : ctx;
    const e = this.base(c, ctx.host, d.source ?? sourceOf(undefined, ctx.env.app), d.kind, d.action, idKey);
    e.event.category = ['process'];
    e.event.type = [d.type ?? 'info'];
    e.message = d.message;
    if (d.level) e.log.level = d.level;
    if (d.container) e.container = d.container;
    if (d.orchestrator) e.orchestrator = d.orchestrator;
    if (d.process) e.process = d.process;
    if (d.tags) for (const t of d.tags) e.tags.push(t);
    const x = e.exit137;
    if (d.message_id) x.message_id = d.message_id;
    if (d.fields) x.fields = d.fields;
    if (d.signal) x.signal = d.signal;
    if (d.target) x.target = d.target;
    if (d.exit) x.exit = d.exit;
    if (d.grace_seconds !== undefined) x.grace_seconds = d.grace_seconds;
    if (d.crash) x.crash = d.crash;
    if (d.oom) x.oom = d.oom;
    if (d.hung_task) x.hung_task = d.hung_task;
    if (d.memcg) x.memcg = d.memcg;
    if (d.state) x.state = d.state;
    if (d.processes) x.processes = d.processes;
    if (d.related_ids?.length) x.related_ids = d.related_ids;
    if (emit) this.emit(e);
    return e;
  }

  /** An audit event's id is eventId(`host|audit|node|epoch:serial`): the part before the stamp hashed once per node. */
  private auditIds(host: string, node: string): IdsAfter {
    const last = this.lastAuditIds;
    if (last !== undefined && last.host === host && last.node === node) return last.ids;
    const ids = new IdsAfter(`${host}|audit|${node}|`);
    this.lastAuditIds = { host, node, ids };
    return ids;
  }

  private base(ctx: LineCtx, host: string, source: Source, kind: NormalizedEvent['exit137']['kind'], action: string, idKey: string, id = eventId(idKey)): NormalizedEvent {
    // read once: an audit record's stamp is made on each read
    const stamp = ctx.stamp;
    const time: NormalizedEvent['exit137']['time'] = { basis: stamp.basis };
    if (stamp.yearInferred) time.year_inferred = true;
    if (stamp.offsetMinutes !== undefined) time.offset_minutes = stamp.offsetMinutes;
    const ns = stamp.ns;
    const digits = ns.toString();
    const e: NormalizedEvent = {
      '@timestamp': formatNanos(ns, digits),
      ecs: { version: ECS_VERSION },
      event: { id, kind: 'event', category: ['host'], type: ['info'], action, module: 'exit137', dataset: `exit137.${source}`, original: ctx.original },
      host: { name: host },
      log: { offset: ctx.offset, line: ctx.line },
      tags: [],
      exit137: { kind, source, ts_ns: digits, time },
    };
    if (ctx.input.path) e.log.file = { path: ctx.input.path };
    if (ctx.env.app || ctx.env.pid) {
      e.log.syslog = {};
      if (ctx.env.app) e.log.syslog.appname = ctx.env.app;
      if (ctx.env.pid) e.log.syslog.procid = ctx.env.pid;
    }
    if (stamp.yearInferred) e.tags.push('year_inferred');
    if (stamp.basis === 'assumed') e.tags.push('zone_assumed');
    if (stamp.basis === 'relative') e.tags.push('time_relative');
    // a time not final yet (a guessed year, kernel seconds, none at all) is placed later (time/placement.ts)
    if (stamp.basis === 'relative' || stamp.provisional || this.placer.waiting(ctx.input.id)) this.placer.mark(e, { input: ctx.input.id, host, ctx, bootNs: stamp.bootNs, provisionalYear: stamp.provisional, noClock: stamp.noClock });
    return e;
  }

  private emit(e: NormalizedEvent): void {
    if (!this.placer.offer(e)) this.send(e);
  }

  private send(e: NormalizedEvent): void {
    // a counter name built per event was a string to hash per event
    let name = EVENT_COUNTERS.get(e.exit137.kind);
    if (name === undefined) EVENT_COUNTERS.set(e.exit137.kind, (name = `events_${e.exit137.kind}`));
    this.counters.inc(name);
    this.onEvent(e);
  }

  private dead(reason: string, message: string, raw: Buffer | string, where: Where, length?: number): void {
    this.counters.inc(`dead_${reason}`);
    const w: { input: string; offset?: number; line?: number; length?: number } = { input: where.input.path ?? where.input.id, offset: where.offset, line: where.line };
    if (length !== undefined) w.length = length;
    this.onDeadLetter(deadLetter(reason, message, raw, w));
  }

  private input(ref: InputRef): InputState {
    let s = this.inputs.get(ref.id);
    if (!s) {
      s = { ref, key: ref.key, format: ref.format };
      this.inputs.set(ref.id, s);
    }
    return s;
  }

  private clock(host: string): NodeClock {
    let c = this.clocks.get(host);
    if (!c) {
      c = new NodeClock(this.opts.clock);
      this.clocks.set(host, c);
    }
    return c;
  }
}

/** The records' lines joined by newlines as a concatenation, which V8 copies only if it is ever read (see `transient`). */
function linesTogether(records: readonly AuditRecord[]): string {
  let s = records[0]!.raw;
  for (let i = 1; i < records.length; i++) s += `\n${records[i]!.raw}`;
  return s;
}

/** Spelled out field by field: object spread is a runtime call, and this runs once per line. */
function lineCtx(where: Where, env: Envelope, stamp: Stamp, host: string, original: string): LineCtx {
  return { input: where.input, src: where.src, offset: where.offset, line: where.line, env, stamp, host, original };
}

/**
 * Where an audit record was read. Its time is the record's own, made exact only when asked: for
 * the first record of an event (the one whose origin the event keeps), not a BigInt per record.
 */
class AuditLineCtx implements LineCtx {
  readonly input: InputRef;
  readonly src: string;
  readonly offset: number;
  readonly line: number;

  constructor(
    where: Where,
    readonly env: Envelope,
    readonly host: string,
    readonly original: string,
    private readonly record: { readonly ns: Nanos; readonly interpreted?: boolean },
    /** A record read without its own stamp has the line's time. */
    private readonly fixed?: Stamp,
  ) {
    this.input = where.input;
    this.src = where.src;
    this.offset = where.offset;
    this.line = where.line;
  }

  get stamp(): Stamp {
    // ausearch -i wrote the time in the reader's zone, which it does not name
    return this.fixed ?? { ns: this.record.ns, basis: this.record.interpreted ? 'assumed' : 'absolute' };
  }
}

/** What a journalctl banner said: when the rendering below it begins, in the zone it is printed in. */
type Banner = { ns: Nanos; offsetMinutes: number | undefined; hosts: Set<string> };

/** The banner's zone and year for each node the rendering shows, once (`-- Logs begin at … +09, … --`). */
function adoptBanner(clock: NodeClock, host: string, b: Banner): void {
  if (b.hosts.has(host)) return;
  b.hosts.add(host);
  if (b.offsetMinutes !== undefined) clock.adopt(b.offsetMinutes);
  clock.observe(b.ns);
}

/**
 * A kernel line's own `[secs]` beside a wall clock ties the node's kernel clock to it (syslog's
 * `kernel: [86813.898404] …`); dmesg lines and dmesg -T lines of the same text do the same.
 */
function noteKernelClock(placer: TimePlacer<LineCtx>, host: string, format: Format, env: Envelope, stamp: Stamp, k: { text: string; bootNs?: Nanos }): void {
  if (k.bootNs !== undefined && env.time?.kind !== 'boot' && stamp.basis !== 'relative' && !stamp.provisional) placer.tie(host, stamp.ns - k.bootNs, 'kernel-line');
  if (format === 'kmsg' && env.time !== undefined) placer.kernelText(host, k.text, env.time.kind === 'boot' ? { boot: env.time.ns } : { wall: stamp.ns });
}

/** `1582099207.232` for an instant: the epoch an audit event is named by. */
function epochOf(ns: Nanos): string {
  const ms = ns / 1_000_000n;
  return `${ms / 1000n}.${String(ms % 1000n).padStart(3, '0')}`;
}

/** Minutes east of UTC that a wall clock shows for an instant, to the nearest quarter hour. */
function wallOffsetMinutes(wall: LocalClock, ns: Nanos): number | undefined {
  const year = new Date(Number(ns / 1_000_000n)).getUTCFullYear();
  let best: number | undefined;
  for (const y of [year - 1, year, year + 1]) {
    const asUtc = resolveClock(wall, y, 0);
    if (asUtc === undefined) continue;
    const minutes = Math.round(Number((asUtc - ns) / 1_000_000_000n) / 900) * 15;
    if (Math.abs(minutes) <= 14 * 60 && (best === undefined || Math.abs(minutes) < Math.abs(best))) best = minutes;
  }
  return best;
}

/** The input's identity: given, else the fingerprint of its first line (when this is it). */
function inputKey(ref: InputRef, offset: number, firstLine: () => Buffer): string {
  return ref.key ?? (offset === 0 ? fingerprint(firstLine()) : `id:${ref.id}`);
}

function saveStamp(s: Stamp): SavedStamp {
  const out: SavedStamp = { ns: s.ns.toString(), basis: s.basis };
  if (s.yearInferred) out.yearInferred = true;
  if (s.offsetMinutes !== undefined) out.offsetMinutes = s.offsetMinutes;
  return out;
}

/** What makes an event's id: a journal entry's cursor, else the input's identity plus the line's byte offset. */
function positionKey(ctx: LineCtx): string {
  const cursor = ctx.env.meta?.__CURSOR;
  return cursor ? `${ctx.host}|journal|${cursor}` : `${ctx.host}|${ctx.src}|${ctx.offset}`;
}

function streamKey(host: string, app: string | undefined, input: string): string {
  return `${host}\0${app ?? ''}\0${input}`;
}

function sourceOf(component: string | undefined, app: string | undefined): Source {
  if (component === 'kubelet' || app === 'kubelet') return 'kubelet';
  if (component === 'cri-o' || app === 'crio') return 'crio';
  if (component === 'podman' || app === 'podman') return 'podman';
  if (component === 'containerd') return 'containerd';
  if (component === 'dockerd') return 'dockerd';
  if (app === 'containerd' || app?.startsWith('containerd-shim')) return 'containerd';
  if (app === 'dockerd' || app === 'docker') return 'dockerd';
  if (app === 'kernel') return 'kernel';
  return 'syslog';
}

/** `containerd://<id>`, `docker://<id>`, `"<id>"`: the id itself (containerd ids need not be hex: `ctr run … lab-1`). */
function cleanId(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const s = v.replace(/^"|"$/g, '').replace(/^[a-z-]+:\/\//, '');
  return isContainerRef(s) ? s : undefined;
}

function num(v: string | undefined): number | undefined {
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

const SIGNAL_NAMES: Record<string, number> = { KILL: 9, SIGKILL: 9, TERM: 15, SIGTERM: 15, terminated: 15, killed: 9, INT: 2, SIGINT: 2, HUP: 1, SIGHUP: 1, QUIT: 3, SIGQUIT: 3, ABRT: 6, SIGABRT: 6 };

function signalOf(v: string | undefined): NormalizedEvent['exit137']['signal'] {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : SIGNAL_NAMES[v];
  if (n === undefined) return undefined;
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 15: 'SIGTERM' };
  return { number: n, name: names[n] ?? `SIG${n}` };
}

/**
 * A daemon's message from what is left of its line once a paste cut the envelope: a klog header
 * with its level and time gone (`kuberuntime_container.go:561] Killing …`), a logrus TTY prefix
 * (`WARN[0010] …`) with its terminal colours written out as text (`^[[33m`).
 */
function bareMessage(text: string): string {
  const m = /^(?:(?:\^\[|\x1b)\[[\d;]*m)?(?:[A-Z]{4}(?:(?:\^\[|\x1b)\[[\d;]*m)?\[[^\]]{1,40}\]|[\w-]+\.go:\d+\]) +/.exec(text);
  return m ? text.slice(m[0].length) : text;
}

/** `10s`, `4m20s`, `2` (seconds), `30 second` → seconds. */
export function durationSeconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().replace(/^"|"$/g, '');
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  let total = 0;
  let any = false;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    any = true;
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 'ms' ? n / 1000 : n;
  }
  return any ? total : undefined;
}
