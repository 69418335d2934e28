/**
 * Kibana saved objects for on-call engineers: data views, saved searches (Lucene, so they can be
 * checked by machine), visualizations and a dashboard. `npm run kibana:export` writes them to
 * exit137-saved-objects.ndjson for Kibana's saved-objects import.
 */
export type SavedObject = {
  type: 'index-pattern' | 'search' | 'visualization' | 'dashboard';
  id: string;
  coreMigrationVersion: string;
  // The oldest versions we ship for: a newer Kibana migrates them forward, an older one refuses newer ones.
  typeMigrationVersion: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
};

const CORE = '8.8.0';
export const EVENTS_VIEW = 'exit137-events';
export const VERDICTS_VIEW = 'exit137-attributions';

function dataView(id: string, title: string, name: string): SavedObject {
  return { type: 'index-pattern', id, coreMigrationVersion: CORE, typeMigrationVersion: '8.0.0', attributes: { title, name, timeFieldName: '@timestamp' }, references: [] };
}

export type SearchSpec = { id: string; title: string; view: string; query: string; columns: string[]; sort: 'asc' | 'desc'; description: string };

export const SEARCHES: SearchSpec[] = [
  { id: 'exit137-attributed', title: 'exit137: attributed 137s by cause', view: VERDICTS_VIEW, query: 'exit_code:137 AND NOT cause:unknown', columns: ['host', 'container.name', 'cause', 'sub_cause', 'confidence', 'headline'], sort: 'desc', description: 'Every container that died with 137 and what killed it.' },
  { id: 'exit137-shim-crashes', title: 'exit137: shim crashes with their panic frame', view: VERDICTS_VIEW, query: 'cause:"shim-death" AND sub_cause:"shim-crashed"', columns: ['host', 'container.id', 'crash.top_frame', 'crash.file', 'known_bugs.id', 'headline'], sort: 'desc', description: 'containerd shims that crashed, the first frame of the dump and the known upstream bug.' },
  { id: 'exit137-oom-wrong-victim', title: 'exit137: OOM kills of the wrong task', view: VERDICTS_VIEW, query: 'cause:"oom-kill" AND oom.wrong_victim:true', columns: ['host', 'container.name', 'oom.victim', 'oom.victim_rss_pages', 'oom.largest_task', 'oom.largest_rss_pages'], sort: 'desc', description: 'Memory cgroup OOMs whose victim held a small fraction of the largest task’s memory.' },
  { id: 'exit137-login-kills', title: 'exit137: kills by logged-in users', view: VERDICTS_VIEW, query: 'killer.login_user:true', columns: ['host', 'container.name', 'killer.auid', 'killer.executable', 'killer.args', 'headline'], sort: 'desc', description: 'SIGKILLs sent by a person’s session (audit login uid set).' },
  { id: 'exit137-unknown', title: 'exit137: unknown causes and what is missing', view: VERDICTS_VIEW, query: 'cause:unknown', columns: ['host', 'container.id', 'exit_code', 'missing'], sort: 'desc', description: 'Deaths exit137 could not attribute, with the evidence that was missing.' },
  { id: 'exit137-container-timeline', title: 'exit137: one container’s timeline (edit the id)', view: EVENTS_VIEW, query: 'container.id:0123456789ab* OR exit137.related_ids:0123456789ab*', columns: ['exit137.source', 'event.action', 'message', 'exit137.signal.name', 'process.executable'], sort: 'asc', description: 'Every event of one container in time order: replace 0123456789ab with the container id prefix.' },
];

function search(s: SearchSpec): SavedObject {
  return {
    type: 'search',
    id: s.id,
    coreMigrationVersion: CORE,
    typeMigrationVersion: '8.0.0',
    attributes: {
      title: s.title,
      description: s.description,
      columns: s.columns,
      sort: [['@timestamp', s.sort]],
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: s.query, language: 'lucene' }, filter: [], indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index' }),
      },
    },
    references: [{ name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern', id: s.view }],
  };
}

export type VisSpec = { id: string; title: string; kind: 'histogram' | 'table'; field: string; size: number; query: string };

export const VISUALIZATIONS: VisSpec[] = [
  { id: 'exit137-vis-causes-over-time', title: 'exit137: deaths over time by cause', kind: 'histogram', field: 'cause', size: 12, query: '' },
  { id: 'exit137-vis-top-nodes', title: 'exit137: top nodes', kind: 'table', field: 'host', size: 20, query: '' },
  { id: 'exit137-vis-top-killers', title: 'exit137: top killers', kind: 'table', field: 'killer.executable', size: 20, query: 'killer.pid:*' },
  { id: 'exit137-vis-top-panics', title: 'exit137: top panic signatures', kind: 'table', field: 'crash.top_frame', size: 20, query: 'crash.top_frame:*' },
];

function visualization(v: VisSpec): SavedObject {
  const aggs =
    v.kind === 'histogram'
      ? [
          { id: '1', enabled: true, type: 'count', params: {}, schema: 'metric' },
          { id: '2', enabled: true, type: 'date_histogram', params: { field: '@timestamp', interval: 'auto', min_doc_count: 1, extended_bounds: {} }, schema: 'segment' },
          { id: '3', enabled: true, type: 'terms', params: { field: v.field, size: v.size, order: 'desc', orderBy: '1' }, schema: 'group' },
        ]
      : [
          { id: '1', enabled: true, type: 'count', params: {}, schema: 'metric' },
          { id: '2', enabled: true, type: 'terms', params: { field: v.field, size: v.size, order: 'desc', orderBy: '1' }, schema: 'bucket' },
        ];
  const visState = { title: v.title, type: v.kind === 'histogram' ? 'histogram' : 'table', aggs, params: v.kind === 'histogram' ? { type: 'histogram', addLegend: true, legendPosition: 'right' } : { perPage: 10 } };
  return {
    type: 'visualization',
    id: v.id,
    coreMigrationVersion: CORE,
    typeMigrationVersion: '8.0.0',
    attributes: {
      title: v.title,
      visState: JSON.stringify(visState),
      uiStateJSON: '{}',
      description: '',
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: v.query, language: 'lucene' }, filter: [], indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index' }) },
    },
    references: [{ name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern', id: VERDICTS_VIEW }],
  };
}

function dashboard(): SavedObject {
  const panels = [...VISUALIZATIONS.map((v) => ({ id: v.id, type: 'visualization' })), { id: 'exit137-attributed', type: 'search' }];
  const grid = (i: number) => (i === 0 ? { x: 0, y: 0, w: 48, h: 12 } : i < 4 ? { x: (i - 1) * 16, y: 12, w: 16, h: 14 } : { x: 0, y: 26, w: 48, h: 16 });
  return {
    type: 'dashboard',
    id: 'exit137-dashboard',
    coreMigrationVersion: CORE,
    typeMigrationVersion: '8.0.0',
    attributes: {
      title: 'exit137: why containers die',
      description: 'Deaths by cause over time, the nodes and killers behind them, shim panic signatures, and the latest verdicts.',
      timeRestore: true,
      timeFrom: 'now-7d',
      timeTo: 'now',
      optionsJSON: JSON.stringify({ useMargins: true, hidePanelTitles: false }),
      panelsJSON: JSON.stringify(panels.map((p, i) => ({ type: p.type, panelIndex: String(i + 1), gridData: { ...grid(i), i: String(i + 1) }, embeddableConfig: {}, panelRefName: `panel_${i + 1}` }))),
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'lucene' }, filter: [] }) },
    },
    references: panels.map((p, i) => ({ name: `${i + 1}:panel_${i + 1}`, type: p.type, id: p.id })),
  };
}

export function savedObjects(): SavedObject[] {
  return [
    dataView(EVENTS_VIEW, 'exit137-events-*', 'exit137 events'),
    dataView(VERDICTS_VIEW, 'exit137-attributions*', 'exit137 verdicts'),
    ...SEARCHES.map(search),
    ...VISUALIZATIONS.map(visualization),
    dashboard(),
  ];
}

export function toNdjson(objects: SavedObject[]): string {
  return `${objects.map((o) => JSON.stringify(o)).join('\n')}\n`;
}
