/** Request cards as every page and the live stream render them, each with its SQL preview if its tool has one. */
import type { ApprovalRequest } from '../contracts/admin-api.js';
import type { Notice } from './env.js';
import { showsMigrationPlan, type MigrationPreviews } from '../shared/migration-preview.js';
import type { Session, SessionSealer } from './session.js';
import { RequestCard, type CardProps } from './views/card.js';
import type { Viewer } from './views/layout.js';

export class Cards {
  constructor(
    private readonly previews: MigrationPreviews,
    private readonly sealer: SessionSealer,
  ) {}

  viewerOf(session: Session): Viewer {
    return { name: session.reviewer, csrf: this.sealer.csrfToken(session.id) };
  }

  async render(requests: ApprovalRequest[], viewer: Viewer, notices: Map<string, Notice> = new Map()) {
    const targets = requests.filter((r) => showsMigrationPlan(r.toolName)).map((r) => r.toolArgs.version);
    const plans = targets.length ? await this.previews.previewsFor(targets) : new Map();
    const now = Date.now();
    return requests.map((request) => {
      const props: CardProps = { request, viewer, now, notice: notices.get(request.id) };
      if (showsMigrationPlan(request.toolName)) props.preview = plans.get(request.toolArgs.version);
      return <RequestCard {...props} />;
    });
  }
}
