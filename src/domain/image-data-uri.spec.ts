import { describe, expect, it } from 'vitest';
import {
  bytesMatchType,
  decodeImageDataUri,
  encodeImageDataUri,
  MAX_LOGO_BYTES,
  storedLogoPath,
} from './image-data-uri.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>');
const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');

describe('bytesMatchType', () => {
  it.each([
    ['image/png', PNG, true],
    ['image/png', Buffer.from('<html>not found</html>'), false],
    ['image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), true],
    ['image/gif', Buffer.from('GIF89a\x01\x00'), true],
    ['image/gif', Buffer.from('GIF90a'), false],
    ['image/webp', Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 '), true],
    ['image/webp', Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt '), false],
    ['image/svg+xml', SVG, true],
    ['image/svg+xml', Buffer.from('{"error":"no logo"}'), false],
  ] as const)('%s with %j: %s', (type, bytes, wanted) => {
    expect(bytesMatchType(type, bytes)).toBe(wanted);
  });
});

describe('decodeImageDataUri', () => {
  it('round-trips what the worker stores', () => {
    const uri = encodeImageDataUri({ contentType: 'image/png', bytes: PNG });
    expect(uri).toBe(`data:image/png;base64,${b64(PNG)}`);
    expect(decodeImageDataUri(uri)).toEqual({ contentType: 'image/png', bytes: PNG });
    expect(decodeImageDataUri(`data:image/svg+xml;base64,${b64(SVG)}`)?.bytes.toString()).toContain('<svg');
  });

  it.each([
    ['another type', `data:text/html;base64,${b64('<script>alert(1)</script>')}`],
    ['not base64', `data:image/svg+xml,${encodeURIComponent('<svg/>')}`],
    ['a parameter before base64', `data:image/png;charset=utf-8;base64,${b64(PNG)}`],
    ['empty', 'data:image/png;base64,'],
    ['broken base64', `data:image/png;base64,${b64(PNG).slice(0, -1)}`],
    ['characters outside base64', `data:image/png;base64,${b64(PNG)}"><script>`],
    ['bytes that are not the type', `data:image/png;base64,${b64('<html></html>')}`],
    [
      'over the size limit',
      `data:image/png;base64,${b64(Buffer.concat([PNG, Buffer.alloc(MAX_LOGO_BYTES)]))}`,
    ],
    ['a URL', 'https://static2.finnhub.io/file/publicdatany/finnhubimage/stock_logo/AAPL.png'],
    ['the monogram path', '/logos/AAPL.svg'],
  ])('refuses %s', (_, uri) => {
    expect(decodeImageDataUri(uri)).toBeUndefined();
  });
});

describe('storedLogoPath', () => {
  it('is a path on this server, per ticker', () => {
    expect(storedLogoPath('AAPL')).toBe('/logos/AAPL');
    expect(storedLogoPath('BRK.B')).toBe('/logos/BRK.B');
  });
});
