// Reads a QR code the way a phone would: from pixels of a screenshot.
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/** Screenshots `locator` and decodes the QR code in it; null if none can be read. */
export async function scanQr(locator) {
  const png = PNG.sync.read(await locator.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return code ? code.data : null;
}

/** Scans the code of a QR payment and returns the session id at the end of its pay-page URL. */
export async function scanSessionId(locator) {
  return new URL(await scanQr(locator)).pathname.split('/').pop();
}
