/**
 * How `hitl ui`'s Slack bridge and the ext-auth admin API agree on who decides. The bridge
 * verifies Slack's signature on a click, then calls with its own token and this header naming
 * the Slack user id; ext-auth maps the id to a reviewer through its tokens file and applies
 * that reviewer's groups and rules, exactly as if they had decided in the web queue.
 */
export const SLACK_USER_HEADER = 'x-reviewer-slack-user';
