/**
 * Elasticsearch index templates (composable, priority 500, names clear of logs-*-*): normalized
 * events in monthly indices named from each event's own time (`exit137-events-2026.11`), verdicts
 * in a plain index behind an alias, one document per incident. Monthly indices rather than a data
 * stream: a deterministic _id deduplicates only within one backing index, so a retry after a
 * rollover would duplicate (elastic/elasticsearch#44794); an index chosen by the event's own
 * month makes every replay land on the same document. `@timestamp` is date_nanos: the nine
 * fraction digits are the order of the evidence.
 */
const kw = { type: 'keyword', ignore_above: 1024 } as const;
const text = (extra: object = {}) => ({ type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 1024 } }, ...extra });
const long = { type: 'long' } as const;

/** The monthly events index an event belongs to, from its own timestamp. */
export function eventsIndex(timestamp: string): string {
  return `exit137-events-${timestamp.slice(0, 4)}.${timestamp.slice(5, 7)}`;
}
export const VERDICTS_INDEX = 'exit137-attributions-v1';
export const VERDICTS_ALIAS = 'exit137-attributions';

const process = {
  properties: {
    pid: long,
    name: kw,
    executable: kw,
    // keyword, not wildcard: the wildcard type is an x-pack plugin that not every cluster has
    title: kw,
    args: kw,
    args_count: long,
    working_directory: kw,
    exit_code: long,
    parent: { properties: { pid: long, name: kw } },
  },
};

/**
 * How often the events' indices are refreshed (made searchable) unless configured
 * (EXIT137_ES_EVENTS_REFRESH). A log index is written all the time and read when someone follows a
 * verdict to its evidence, and a verdict comes a settle window (30 s by default) after its last
 * evidence: by then a 30 s refresh has made that evidence searchable. Every second, the refresh
 * of an index being written cost the node more than indexing itself (bench, 30 copies: 7.6 s of
 * refresh and 12 s of indexing for 30,000 documents the node loads in 2 s with refresh off); at
 * 10 s it was still a refresh every few thousand documents of a saturated run.
 */
export const EVENTS_REFRESH_DEFAULT = '30s';

export const EVENTS_TEMPLATE = {
  index_patterns: ['exit137-events-*'],
  priority: 500,
  template: {
    // the verdicts' own index keeps a fast refresh (VERDICTS_TEMPLATE)
    settings: { number_of_shards: 1, refresh_interval: EVENTS_REFRESH_DEFAULT, 'index.mapping.total_fields.limit': 2000 },
    mappings: {
      dynamic: false,
      properties: {
        '@timestamp': { type: 'date_nanos' },
        message: text(),
        ecs: { properties: { version: kw } },
        event: {
          properties: { id: kw, kind: kw, category: kw, type: kw, action: kw, outcome: kw, module: kw, dataset: kw, sequence: long, original: { type: 'keyword', index: false, doc_values: false } },
        },
        host: { properties: { name: kw } },
        process,
        user: { properties: { id: kw, name: kw, audit: { properties: { id: kw, name: kw } }, effective: { properties: { id: kw } }, group: { properties: { id: kw } } } },
        container: { properties: { id: kw, name: kw, runtime: kw, image: { properties: { name: kw } } } },
        orchestrator: { properties: { namespace: kw, resource: { properties: { type: kw, name: kw, id: kw } } } },
        log: { properties: { file: { properties: { path: kw } }, offset: long, line: long, level: kw, syslog: { properties: { appname: kw, procid: kw } } } },
        tags: kw,
        auditd: {
          properties: {
            node: kw, serial: long, epoch: kw, records: kw, syscall: kw, arch: kw, key: kw, success: { type: 'boolean' }, exit: kw, a: kw, tty: kw, ses: kw,
            proctitle_truncated: { type: 'boolean' }, target_arg: { properties: { pid: long, scope: kw } }, enriched: { type: 'flattened' }, warnings: kw,
          },
        },
        exit137: {
          properties: {
            kind: kw, source: kw, ts_ns: kw, message_id: kw, related_ids: kw, grace_seconds: { type: 'float' },
            time: { properties: { basis: kw, year_inferred: { type: 'boolean' }, offset_minutes: long } },
            fields: { type: 'flattened' },
            signal: { properties: { number: long, name: kw, syscall: kw } },
            target: { properties: { process: { properties: { pid: long, name: kw, uid: kw, auid: kw, ses: kw } }, others: { type: 'object', enabled: false } } },
            exit: { properties: { code: long, pid: long, exec_id: kw } },
            crash: { properties: { headline: text(), kind: kw, signal: kw, top_frame: { properties: { func: kw, file: kw, line: long } }, goroutines: long, complete: { type: 'boolean' }, frames: { type: 'object', enabled: false } } },
            oom: { properties: { constraint: kw, kernel: kw, memcg: kw, task_memcg: kw, cpuset: kw, usage_kb: long, limit_kb: long, global: { type: 'boolean' }, victim: { properties: { pid: long, name: kw } }, tasks: { type: 'object', enabled: false } } },
            hung_task: { properties: { name: kw, pid: long, state: kw, blocked_seconds: long, stack: kw, cgroup: kw } },
            memcg: { properties: { hierarchy: kw, kernel_cgroups: long, live_cgroups: long, dying_cgroups: long } },
          },
        },
      },
    },
  },
};

export const VERDICTS_TEMPLATE = {
  index_patterns: ['exit137-attributions-*'],
  priority: 500,
  template: {
    // A verdict write returns once its verdict is visible (refresh=wait_for), which waits for the
    // next scheduled refresh: with the default second that was up to a second of every verdict's
    // latency. The index is small and mostly unchanged, and a refresh with nothing new costs
    // nothing; set explicitly, the shard is also never search-idle (whose refreshes wait for a search).
    settings: { number_of_shards: 1, refresh_interval: '250ms' },
    aliases: { [VERDICTS_ALIAS]: {} },
    mappings: {
      dynamic: 'strict',
      properties: {
        '@timestamp': { type: 'date_nanos' },
        incident_id: kw,
        version: long,
        host: kw,
        container: { properties: { id: kw, id_is_prefix: { type: 'boolean' }, name: kw, image: kw, pod: kw, namespace: kw, sandbox: { type: 'boolean' } } },
        exit_code: long,
        exit_origin: kw,
        died_at: { type: 'date_nanos' },
        died_basis: kw,
        died_since_boot_ns: kw,
        cause: kw,
        sub_cause: kw,
        confidence: { type: 'float' },
        confidence_reason: text(),
        headline: text(),
        explanation: { type: 'text' },
        remedy: { type: 'text' },
        killer: { properties: { pid: long, ppid: long, name: kw, executable: kw, args: kw, args_truncated: { type: 'boolean' }, uid: kw, auid: kw, login_user: { type: 'boolean' } } },
        signal: kw,
        grace_seconds: { type: 'float' },
        oom: { properties: { memcg: kw, limit_kb: long, usage_kb: long, victim: kw, victim_rss_pages: long, largest_task: kw, largest_rss_pages: long, wrong_victim: { type: 'boolean' }, mechanism: kw, victim_oom_score_adj: long, largest_oom_score_adj: long, kernel: kw } },
        crash: { properties: { headline: text(), top_frame: kw, file: kw } },
        known_bugs: { properties: { id: kw, title: { type: 'text' }, affected: { type: 'text' }, fixed_in: { type: 'text' }, refs: kw } },
        missing: text(),
        evidence: { properties: { id: kw, ts: { type: 'date_nanos' }, source: kw, action: kw, summary: { type: 'text' }, role: { type: 'text' } } },
        alternatives: { properties: { cause: kw, confidence: { type: 'float' }, reason: { type: 'text' } } },
      },
    },
  },
};

/** Mapping types by dotted field path: what saved searches and dashboards may query. */
export function fieldTypes(mappings: { properties: Record<string, unknown> }): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (props: Record<string, unknown>, prefix: string) => {
    for (const [name, def] of Object.entries(props)) {
      const d = def as { type?: string; properties?: Record<string, unknown>; fields?: Record<string, { type: string }> };
      const path = prefix ? `${prefix}.${name}` : name;
      if (d.properties) walk(d.properties, path);
      if (d.type) out.set(path, d.type);
      for (const [sub, sd] of Object.entries(d.fields ?? {})) out.set(`${path}.${sub}`, sd.type);
    }
  };
  walk(mappings.properties, '');
  return out;
}
