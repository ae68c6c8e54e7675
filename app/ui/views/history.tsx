import { ENDED_STATUSES, type ApprovalRequest, type Status } from '../../contracts/admin-api.js';
import { formatTime, OUTCOMES } from '../../shared/review-format.js';
import { Page, type Viewer } from './layout.js';

export interface HistoryFilter {
  status?: Status;
  requester?: string;
  tool?: string;
  offset: number;
}

interface HistoryProps {
  viewer: Viewer;
  items: ApprovalRequest[];
  total: number;
  limit: number;
  filter: HistoryFilter;
}

export function HistoryPage({ viewer, items, total, limit, filter }: HistoryProps) {
  const page = (offset: number) => {
    const params = new URLSearchParams();
    if (filter.status) params.set('status', filter.status);
    if (filter.requester) params.set('requester', filter.requester);
    if (filter.tool) params.set('tool', filter.tool);
    params.set('offset', String(offset));
    return `/history?${params}`;
  };
  return (
    <Page title="History" viewer={viewer} current="history">
      <h1>History</h1>
      <form method="get" action="/history" class="filters" aria-label="Filter the history">
        <label>
          Outcome
          <select name="status">
            <option value="">any</option>
            {ENDED_STATUSES.map((s) => (
              <option value={s} selected={filter.status === s}>
                {OUTCOMES[s].label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Requester <input name="requester" value={filter.requester ?? ''} />
        </label>
        <label>
          Tool <input name="tool" value={filter.tool ?? ''} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <p>
        {total} {total === 1 ? 'request' : 'requests'}. <a href="/audit.jsonl">Download the audit export (JSON lines, hash-chained)</a>
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Tool</th>
              <th scope="col">Outcome</th>
              <th scope="col">Requester</th>
              <th scope="col">Reviewers</th>
              <th scope="col">Reason</th>
              <th scope="col">Received</th>
              <th scope="col">Decided</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr id={`history-${r.id}`}>
                <td>
                  <code>{r.toolName}</code>
                </td>
                <td class={`outcome ${r.status}`}>
                  <span aria-hidden="true">{OUTCOMES[r.status].symbol}</span> {OUTCOMES[r.status].label}
                </td>
                <td>{r.requester ?? '—'}</td>
                <td>{reviewersOf(r)}</td>
                <td>{r.reason ?? ''}</td>
                <td>{formatTime(r.receivedAt)}</td>
                <td>{formatTime(r.decidedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pages" aria-label="History pages">
        {filter.offset > 0 && <a href={page(Math.max(0, filter.offset - limit))}>← Newer</a>}
        {filter.offset + items.length < total && <a href={page(filter.offset + limit)}>Older →</a>}
      </nav>
    </Page>
  );
}

function reviewersOf(request: ApprovalRequest): string {
  const names = request.approvals.map((a) => a.reviewer);
  if (request.decidedBy && !names.includes(request.decidedBy)) names.push(request.decidedBy);
  return names.join(', ') || '—';
}
