// The end user's chat, speaking A2A 1.0 JSON-RPC with the kagent hitl/v1 extension to the
// agent that serves this page. Everything the agent or a tool sent is shown as text.
(() => {
  const EXTENSION = document.body.dataset.extension;
  const GATE = document.body.dataset.gateMeta;
  const conversation = document.getElementById('conversation');
  const working = document.getElementById('working');
  const compose = document.getElementById('compose');
  const prompt = document.getElementById('prompt');
  const user = document.getElementById('user');
  let contextId;
  let requestId = 0;
  let lastPrompt;

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function say(who, text) {
    const item = element('li', `bubble ${who}`);
    item.append(element('span', 'who', who === 'user' ? 'You' : 'Assistant'));
    if (who === 'user') item.append(element('p', '', text));
    else appendAnswer(item, text);
    conversation.append(item);
    item.scrollIntoView({ block: 'end' });
    return item;
  }

  // The agent's text as paragraphs, with each Markdown table in it (a header row, a --- row,
  // then rows) drawn as a table. Cells are text nodes like everything else the agent sends.
  function appendAnswer(item, text) {
    const lines = text.split('\n');
    let paragraph = [];
    const endParagraph = () => {
      if (paragraph.length) item.append(element('p', '', paragraph.join('\n')));
      paragraph = [];
    };
    for (let i = 0; i < lines.length; ) {
      if (isTableRow(lines[i]) && isTableRule(lines[i + 1])) {
        endParagraph();
        const header = tableCells(lines[i]);
        const rows = [];
        for (i += 2; i < lines.length && isTableRow(lines[i]); i++) rows.push(tableCells(lines[i]));
        item.append(table(header, rows));
      } else {
        if (lines[i].trim() === '') endParagraph();
        else paragraph.push(lines[i]);
        i++;
      }
    }
    endParagraph();
  }

  const isTableRow = (line) => typeof line === 'string' && /^\s*\|.*\|\s*$/.test(line);
  const isTableRule = (line) => isTableRow(line) && tableCells(line).every((c) => /^:?-{3,}:?$/.test(c));

  // "| a | b \| c |" → ["a", "b | c"]: a backslash keeps the next character as it is.
  function tableCells(line) {
    const inner = line.trim().slice(1, -1);
    const cells = [];
    let current = '';
    for (let i = 0; i < inner.length; i++) {
      if (inner[i] === '\\' && i + 1 < inner.length) current += inner[++i];
      else if (inner[i] === '|') {
        cells.push(current.trim());
        current = '';
      } else current += inner[i];
    }
    cells.push(current.trim());
    return cells;
  }

  function table(header, rows) {
    // Wide results scroll inside their own region, which a keyboard can reach.
    const region = element('div', 'table-region');
    region.tabIndex = 0;
    region.setAttribute('role', 'region');
    region.setAttribute('aria-label', 'Query result');
    const grid = element('table', 'result');
    const head = element('tr');
    for (const name of header) {
      const th = element('th', '', name);
      th.scope = 'col';
      head.append(th);
    }
    const thead = element('thead');
    thead.append(head);
    const tbody = element('tbody');
    for (const cells of rows) {
      const row = element('tr');
      header.forEach((_, column) => row.append(element('td', '', cells[column] ?? '')));
      tbody.append(row);
    }
    grid.append(thead, tbody);
    region.append(grid);
    return region;
  }

  function textOf(message) {
    return (message?.parts ?? []).filter((p) => typeof p.text === 'string').map((p) => p.text).join('\n');
  }

  // One JSON-RPC SendStreamingMessage; each event from the stream goes to `onEvent`.
  async function send(message) {
    const response = await fetch('/', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'A2A-Version': '1.0',
        'A2A-Extensions': EXTENSION,
        'x-user-id': user.value.trim() || 'local-user',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++requestId, method: 'SendStreamingMessage', params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', contextId, ...message } } }),
    });
    if (!response.body || !(response.headers.get('content-type') ?? '').includes('event-stream')) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.error?.message ?? `the agent answered ${response.status}`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data) onEvent(JSON.parse(data));
      }
    }
  }

  function onEvent(envelope) {
    if (envelope.error) return say('agent error', envelope.error.message);
    const result = envelope.result ?? {};
    const task = result.task;
    const update = result.statusUpdate;
    if (task) contextId = task.contextId;
    const taskId = task?.id ?? update?.taskId;
    const status = task?.status ?? update?.status;
    if (!status) return;
    const text = textOf(status.message);
    if (status.state === 'TASK_STATE_WORKING') {
      working.hidden = !text;
      working.textContent = text;
    } else if (status.state === 'TASK_STATE_INPUT_REQUIRED') {
      working.hidden = true;
      const request = status.message?.metadata?.[EXTENSION];
      if (request?.type === 'tool_approval_request') approvalCard(taskId, request);
      else say('agent', text);
    } else if (status.state === 'TASK_STATE_COMPLETED' || status.state === 'TASK_STATE_FAILED') {
      working.hidden = true;
      const item = say('agent', text);
      const gate = status.message?.metadata?.[GATE];
      if (gate?.status === 'waiting') waitingForReviewer(item, gate);
    }
  }

  function approvalCard(taskId, request) {
    const item = element('li', 'bubble agent card');
    item.append(element('span', 'who', 'Assistant'), element('p', 'hint', request.hint));
    for (const tool of request.tools) {
      const call = element('div', 'call');
      call.append(element('code', 'tool', tool.name), element('pre', 'args', JSON.stringify(tool.args, null, 2)));
      item.append(call);
    }
    const reason = element('input', 'reason');
    reason.placeholder = 'Reason (optional)';
    reason.setAttribute('aria-label', 'Reason (optional)');
    const approve = element('button', 'approve', '✔ Approve');
    const reject = element('button', 'reject', '✖ Reject');
    const decide = (approved) => {
      for (const el of [approve, reject, reason]) el.disabled = true;
      item.append(element('p', 'decided', approved ? 'You approved.' : 'You rejected.'));
      const approvals = request.tools.map((t) => ({ id: t.id, approved, ...(approved || !reason.value ? {} : { rejection_reason: reason.value }) }));
      run({ taskId, metadata: { [EXTENSION]: { type: 'tool_approval_response', approvals } }, parts: [{ text: approved ? 'Approved.' : 'Rejected.' }] });
    };
    approve.addEventListener('click', () => decide(true));
    reject.addEventListener('click', () => decide(false));
    const row = element('div', 'buttons');
    row.append(reason, approve, reject);
    item.append(row);
    conversation.append(item);
    approve.focus();
  }

  // The gateway stopped holding the call; it waits in the reviewers' queue. Once approved, the
  // same request made again runs it.
  function waitingForReviewer(item, gate) {
    item.classList.add('waiting');
    item.append(element('p', 'waiting-note', `◷ Waiting for a platform reviewer (request ${gate.requestId}, open until ${gate.expiresAt}).`));
    const prompt = lastPrompt;
    const again = element('button', 'try-again', '↻ Try again');
    again.addEventListener('click', () => {
      again.disabled = true;
      say('user', prompt);
      run({ parts: [{ text: prompt }] });
    });
    const row = element('div', 'buttons');
    row.append(again);
    item.append(row);
  }

  function run(message) {
    send(message).catch((err) => {
      working.hidden = true;
      say('agent error', err.message);
    });
  }

  compose.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text) return;
    say('user', text);
    prompt.value = '';
    lastPrompt = text;
    run({ parts: [{ text }] });
  });
})();
