/**
 * The file parts of a multipart/form-data body (RFC 7578), enough for `curl -F image=@cat.jpg`
 * and browsers' forms: each part's headers are read for its name and content type, and its bytes
 * are the slice between the boundaries.
 */
export interface FormPart {
  readonly name?: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

/** The boundary of a multipart content type, or undefined when it has none. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The parts of a body; undefined when the body is not multipart with this boundary. */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let start = body.indexOf(delimiter);
  if (start < 0) return undefined;
  for (;;) {
    start += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[start] === 0x2d && body[start + 1] === 0x2d) return parts;
    const next = body.indexOf(delimiter, start);
    if (next < 0) return parts.length > 0 ? parts : undefined;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) return undefined;
    const headers = part.subarray(0, headerEnd).toString('utf8');
    // The part's bytes end before the CRLF that precedes the next delimiter.
    const data = part.subarray(headerEnd + 4, part.length >= headerEnd + 6 && part.subarray(-2).toString() === '\r\n' ? part.length - 2 : part.length);
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const contentType = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim();
    parts.push({ data, ...(name !== undefined ? { name } : {}), ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}) });
    start = next;
  }
}
