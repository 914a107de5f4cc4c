import {
  bytesMatchType,
  encodeImageDataUri,
  isLogoContentType,
  MAX_LOGO_BYTES,
} from '../domain/image-data-uri.ts';
import { monogramPath } from '../domain/monogram.ts';
import type { ProviderHttp } from './http.ts';
import { type FetchOptions, ProviderAuthError, ProviderError, ProviderRateLimitedError } from './provider.ts';

/** Where a provider file may log what it decided about a logo; pino's logger fits. */
export interface ProviderLogger {
  debug(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface LogoDownloadOptions {
  /** The provider's own client: its timeout, headers (the key), budget accounting and named faults. */
  http: ProviderHttp;
  /** The configured base URL: its host is always allowed (a proxy, or the fake upstream in tests). */
  baseUrl: string;
  /**
   * The provider's own hostnames (the name and its subdomains), fetched over https on the default port
   * only. A provider answer decides which URL the worker fetches, so nothing else is.
   */
  domains: readonly string[];
  logger?: ProviderLogger | undefined;
}

/** Downloads one company's logo: resolves a `data:` URI, or the monogram's path when there is no usable image. */
export type LogoDownload = (
  symbol: string,
  logoUrl: string | undefined,
  options: FetchOptions,
) => Promise<string>;

/**
 * The one way live providers turn the logo URL in an answer into what is stored: the image itself, inline,
 * so the page loads it from this app's origin (its CSP allows nothing else) and a key-bearing URL never
 * reaches a browser.
 *
 * SSRF guard: the URL comes from a provider's answer, and the worker runs next to Postgres, Redis and
 * perhaps a cloud metadata service, so only URLs on the provider's own hosts (over https) or on the
 * configured base URL's host are fetched, and every redirect hop is checked the same way. Those are also
 * the only hosts the key (sent with every request of `http`) may go to.
 *
 * A missing, slow, oversized, refused or non-image answer costs the company its logo, not its name: the
 * monogram. A rate limit still throws, as for any other request: the job must see it.
 */
export function createLogoDownload(options: LogoDownloadOptions): LogoDownload {
  const base = new URL(options.baseUrl);
  const { http, logger } = options;
  const suffixes = options.domains.map((domain) => domain.toLowerCase());

  const allowed = (url: URL): boolean => {
    if (url.username !== '' || url.password !== '') return false;
    if (url.host === base.host) return url.protocol === base.protocol || url.protocol === 'https:';
    return (
      url.protocol === 'https:' &&
      url.port === '' &&
      suffixes.some((domain) => url.hostname === domain || url.hostname.endsWith(`.${domain}`))
    );
  };

  return async (symbol, logoUrl, fetchOptions) => {
    const monogram = monogramPath(symbol);
    if (logoUrl === undefined || logoUrl.trim() === '') return monogram;
    let url: URL;
    try {
      url = new URL(logoUrl);
    } catch {
      logger?.debug({ provider: http.provider, symbol }, 'logo URL is not a URL; using the monogram');
      return monogram;
    }
    if (!allowed(url)) {
      logger?.warn(
        { provider: http.provider, symbol, host: url.host, protocol: url.protocol },
        "logo URL is not on the provider's own hosts; not fetched, using the monogram",
      );
      return monogram;
    }
    try {
      const image = await http.getBytes(url.toString(), MAX_LOGO_BYTES, fetchOptions, allowed);
      const { contentType, bytes } = image;
      if (image.status !== 200 || !isLogoContentType(contentType) || !bytesMatchType(contentType, bytes)) {
        logger?.debug(
          { provider: http.provider, symbol, status: image.status, contentType, bytes: bytes.length },
          'logo answer is not a usable image; using the monogram',
        );
        return monogram;
      }
      return encodeImageDataUri({ contentType, bytes });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      // A rate limit slows the whole queue: the job must see it. A refusal is the image host's, not the
      // API's (the profile call that named the URL went through with the key; static hosts answer 403 for
      // a missing file), so it costs this one company its logo, not every company its name.
      if (error instanceof ProviderRateLimitedError) throw error;
      const log = error instanceof ProviderAuthError ? logger?.warn : logger?.debug;
      log?.call(
        logger,
        { provider: http.provider, symbol, err: error },
        'logo not fetched; using the monogram',
      );
      return monogram;
    }
  };
}
