// Preloaded (`--import`) into the reference everything-server, whose `app.listen(PORT)` would bind
// every interface: a conformance run must not open a test server to the network. Binds 127.0.0.1
// whenever a listen call names a port but no host; the server's copy stays unchanged.
import { Server } from 'node:http';

const listen = Server.prototype.listen;
Server.prototype.listen = function (...args) {
  const [port, second] = args;
  const portOnly = typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port));
  if (portOnly && (second === undefined || typeof second === 'function'))
    return listen.call(this, Number(port), '127.0.0.1', ...args.slice(1));
  return listen.apply(this, args);
};
