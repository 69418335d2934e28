/**
 * Where a log store or a SIEM keeps the program's own line in the record it exports: the line
 * people paste from Cloud Logging, CloudWatch, Wazuh or a Kibana document is
 * that store's JSON around the node's line. The line says what happened; the record adds when the
 * store received it and which node sent it. Each layout is named by the keys its store writes, so
 * an object is read as a store's record only when it has that store's own keys.
 */

type Obj = Record<string, unknown>;

export type ExportedLine = {
  text: string;
  /** The store's time of the line, as it wrote it (ISO text, or epoch milliseconds). */
  stamp?: string | number;
  host?: string;
};

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(...vs: unknown[]): string | undefined {
  return vs.find((v): v is string => typeof v === 'string' && v !== '');
}

function path(o: unknown, ...keys: string[]): unknown {
  let v = o;
  for (const k of keys) v = isObj(v) ? v[k] : undefined;
  return v;
}

/** A message a store kept as a string, or an object (docker's event, a structured log) it kept whole. */
function lineOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  return isObj(v) ? JSON.stringify(v) : undefined;
}

type Layout = { name: string; is(o: Obj): boolean; read(o: Obj): ExportedLine | undefined };

const LAYOUTS: Layout[] = [
  {
    // Cloud Logging's LogEntry (Logs Explorer's "Copy", `gcloud logging read --format=json`):
    // textPayload, or jsonPayload with the agent's message key; the node in the resource's labels
    name: 'cloud-logging',
    is: (o) => ('textPayload' in o || 'jsonPayload' in o) && ('logName' in o || 'insertId' in o || 'resource' in o || 'timestamp' in o),
    read(o) {
      const p = o.jsonPayload;
      // the events log keeps each Kubernetes Event whole as its jsonPayload: the Event is the record
      const event = isObj(p) && (isObj(p.involvedObject) || isObj(p.regarding)) ? JSON.stringify(p) : undefined;
      const text = event ?? str(o.textPayload) ?? str(path(p, 'message'), path(p, 'MESSAGE'), path(p, 'log'), path(p, 'msg'));
      if (text === undefined) return undefined;
      const host = str(
        path(o, 'resource', 'labels', 'node_name'),
        path(o, 'labels', 'compute.googleapis.com/resource_name'),
        path(p, '_HOSTNAME'),
        path(o, 'resource', 'labels', 'instance_id'),
      );
      return { text, stamp: str(o.timestamp, o.receiveTimestamp), ...(host ? { host } : {}) };
    },
  },
  {
    // CloudWatch Logs: `aws logs filter-log-events` / get-log-events (message, timestamp in epoch
    // ms, logStreamName) and a Logs Insights result (@message, @timestamp, @logStream)
    name: 'cloudwatch',
    is: (o) => typeof o['@message'] === 'string' || (typeof o.message === 'string' && ('logStreamName' in o || 'ingestionTime' in o || 'eventId' in o)),
    read(o) {
      const text = str(o['@message'], o.message);
      if (text === undefined) return undefined;
      // Logs Insights writes @timestamp in UTC without saying so (`2024-05-19 06:10:35.743`)
      const insights = str(o['@timestamp']);
      const stamp = typeof o.timestamp === 'number' ? o.timestamp : insights && /^\d{4}-\d\d-\d\d[ T][\d:.]+$/.test(insights) ? `${insights}Z` : str(insights, o.timestamp);
      const host = str(o['@logStream'], o.logStreamName);
      return { text, ...(stamp !== undefined ? { stamp } : {}), ...(host && !host.includes('/') ? { host } : {}) };
    },
  },
  {
    // A Wazuh alert (alerts.json, the dashboard's document view): the agent's original line in
    // full_log, the host its predecoder read from a syslog header, or the agent
    name: 'wazuh-alert',
    is: (o) => typeof o.full_log === 'string' && ('rule' in o || 'agent' in o || 'decoder' in o),
    read(o) {
      const host = str(path(o, 'predecoder', 'hostname'), path(o, 'agent', 'name'));
      return { text: o.full_log as string, stamp: str(o.timestamp), ...(host ? { host } : {}) };
    },
  },
  {
    // A Wazuh/OSSEC docker-listener record (`{"integration": "docker", "docker": {…}}`): docker's
    // own event object, which is read as a `docker events` line
    name: 'docker-integration',
    is: (o) => o.integration === 'docker' && isObj(o.docker),
    read: (o) => ({ text: JSON.stringify(o.docker) }),
  },
  {
    // An Elasticsearch/Kibana document copied whole: the stored record is its _source
    name: 'es-document',
    is: (o) => isObj(o._source) && ('_index' in o || '_id' in o),
    read: (o) => exportedLine(o._source as Obj),
  },
];

/** The node's line inside a store's exported record, or undefined when the object is no store's record. */
export function exportedLine(o: Obj): ExportedLine | undefined {
  for (const l of LAYOUTS) if (l.is(o)) return l.read(o);
  return undefined;
}

/**
 * The records of a store's whole answer as a CLI prints it: `aws logs filter-log-events` and
 * get-log-events (`{"events": […]}`), a Logs Insights `get-query-results` (`{"results": [[{field,
 * value}, …], …]}`, each row made the record it stands for), `gcloud logging read --format=json`
 * (an array of LogEntries) and the Logging API's `{"entries": […]}`. Undefined when the document
 * holds no store's record: every object of the collection is handed on, records or not.
 */
export function storeRecords(doc: unknown): Obj[] | undefined {
  let list: unknown[] | undefined;
  if (Array.isArray(doc)) list = doc;
  else if (isObj(doc)) {
    if (Array.isArray(doc.results) && doc.results.every(Array.isArray)) list = (doc.results as unknown[][]).map(insightsRow);
    else list = [doc.events, doc.entries].find(Array.isArray);
  }
  if (!list) return undefined;
  const records = list.filter(isObj);
  return records.some((r) => exportedLine(r) !== undefined) ? records : undefined;
}

/** A Logs Insights row (`[{"field": "@message", "value": "…"}, …]`) as the record it stands for. */
function insightsRow(row: unknown[]): Obj {
  const o: Obj = {};
  for (const c of row) if (isObj(c) && typeof c.field === 'string') o[c.field] = c.value;
  return o;
}

/**
 * The first key of a pretty-printed export record (`  "insertId": "…",`, `  "@message": …`): a
 * `{` alone followed by one of these is a store's record, gathered whole like a journal entry.
 */
const EXPORT_KEY = /^\s*"(?:insertId|textPayload|jsonPayload|logName|receiveTimestamp|@message|@timestamp|@logStream|logStreamName|ingestionTime|full_log|integration|_index)"\s*:/;

export function isExportKeyLine(line: string): boolean {
  return line.charCodeAt(0) !== 123 && EXPORT_KEY.test(line);
}

/**
 * A line of Wazuh's archives (`logall`, archives.log) or of an alerts.log header: the manager's
 * own receive time with its year, `<agent>-><location>`, then the agent's line as read (full_log).
 * The agent is `(name) ip` for a remote agent and the manager's host name for its own logs; the
 * location is a file (`/var/log/syslog`, whose line keeps its own syslog header), or a module
 * (`Wazuh-Docker`: docker's event in the listener's JSON record). The time is the manager's wall
 * clock in its zone, which the line does not name.
 */
export type ArchivedLine = { text: string; stamp: string; host: string; location: string };

const ARCHIVE = /^(\d{4}) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d:\d\d:\d\d) (?:\(([^()\s]{1,128})\) \S{1,64}|([^\s>()]{1,128}))->(\S{1,512})(?: (.*))?$/s;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function wazuhArchiveLine(line: string): ArchivedLine | undefined {
  // four digits and a space, then a month: no other log opens with a bare year
  const c = line.charCodeAt(0);
  if (!(c >= 49 && c <= 50) || line.charCodeAt(4) !== 32 || !line.includes('->')) return undefined;
  const m = ARCHIVE.exec(line);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!) + 1;
  if (month === 0) return undefined;
  const stamp = `${m[1]}-${String(month).padStart(2, '0')}-${m[3]!.padStart(2, '0')}T${m[4]}`;
  return { text: m[8] ?? '', stamp, host: m[5] ?? m[6]!, location: m[7]! };
}
