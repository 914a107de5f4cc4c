/**
 * Company logos are stored inline, as `data:` URIs, so the page never loads anything from another host: the
 * worker downloads the image once, the app serves the bytes from its own origin at /logos/{TICKER}. These
 * are the rules for what may be stored and served, in one place for both sides.
 */

/** The image types a logo may be. Anything else (HTML, JSON, a PDF) is not a logo. */
export const LOGO_CONTENT_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/svg+xml',
] as const;
export type LogoContentType = (typeof LOGO_CONTENT_TYPES)[number];

/** Larger images fall back to the monogram: a logo drawn at 24 px needs a few KB, not a photo. */
export const MAX_LOGO_BYTES = 64 * 1024;

export interface LogoImage {
  contentType: LogoContentType;
  bytes: Buffer;
}

export function isLogoContentType(value: string): value is LogoContentType {
  return (LOGO_CONTENT_TYPES as readonly string[]).includes(value);
}

/**
 * Whether the bytes are what the content type says. A host that labels an HTML error page `image/png` must
 * not get that page stored and served back from our origin as a logo.
 */
export function bytesMatchType(contentType: LogoContentType, bytes: Buffer): boolean {
  const starts = (...signature: number[]) => signature.every((byte, i) => bytes[i] === byte);
  switch (contentType) {
    case 'image/png':
      return starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/jpeg':
      return starts(0xff, 0xd8, 0xff);
    case 'image/gif':
      return (
        bytes.subarray(0, 6).toString('latin1') === 'GIF87a' ||
        bytes.subarray(0, 6).toString('latin1') === 'GIF89a'
      );
    case 'image/webp':
      return (
        bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
        bytes.subarray(8, 12).toString('latin1') === 'WEBP'
      );
    case 'image/svg+xml':
      // Text with an <svg> element near the start (after an XML declaration, comments or a doctype).
      return /<svg[\s>]/i.test(bytes.subarray(0, 4096).toString('utf8'));
  }
}

/** The `data:` URI a checked logo is stored as. */
export function encodeImageDataUri(image: LogoImage): string {
  return `data:${image.contentType};base64,${image.bytes.toString('base64')}`;
}

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/;

/**
 * The image a stored `data:` URI holds, or undefined when it is not one we would have stored: another type,
 * not base64, empty, over the size limit, or bytes that do not match the type. Stored values are read back
 * into HTTP answers, so a malformed one (an old row, a hand edit) becomes the monogram, never an error.
 */
export function decodeImageDataUri(uri: string): LogoImage | undefined {
  // Base64 of MAX_LOGO_BYTES, plus the header: anything longer is over the limit without decoding it.
  if (uri.length > Math.ceil(MAX_LOGO_BYTES / 3) * 4 + 64) return undefined;
  const match = DATA_URI.exec(uri);
  if (!match) return undefined;
  const [, contentType, base64] = match;
  if (!isLogoContentType(contentType!) || base64!.length === 0 || base64!.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(base64!, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_LOGO_BYTES || !bytesMatchType(contentType, bytes)) {
    return undefined;
  }
  return { contentType, bytes };
}

/** Where the app serves a stored logo: what the API answers instead of the (large) data: URI itself. */
export function storedLogoPath(ticker: string): string {
  return `/logos/${encodeURIComponent(ticker)}`;
}
