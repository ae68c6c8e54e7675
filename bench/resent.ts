/**
 * An HTTP request sent again once when the connection was reset: a kept-alive connection the
 * server closes as it is reused is a property of the client pool, not of the server measured.
 */
export async function resent(request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
    return request();
  }
}
