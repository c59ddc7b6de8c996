import { isIP } from 'node:net';

// The control API answers the machine it runs on only: it binds a loopback
// address, refuses a connection from any other (should one ever arrive),
// and refuses a Host header that names anything else (a web page that
// rebinds its own name to 127.0.0.1 cannot read it through a browser).

/** 127.0.0.0/8, ::1 and ::ffff:127.x.y.z: addresses of this machine only. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase();
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(a) === 6 && /^(?:0{0,4}:){2,7}0{0,3}1$|^::1$/.test(a);
}

/** An interface the control API may listen on: a loopback address, or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  return host.toLowerCase() === 'localhost' || isLoopbackAddress(host);
}

/** A Host header naming this machine (`localhost`, `127.0.0.1:9000`, `[::1]:9000`), or none. */
export function hostHeaderAllowed(header: string | undefined): boolean {
  if (header === undefined) return true;
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::\d{1,5})?$/.exec(header.trim());
  const name = m?.[1] ?? m?.[2];
  return name !== undefined && isLoopbackHost(name);
}
