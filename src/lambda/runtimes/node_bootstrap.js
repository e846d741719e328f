// salespipe's runtime client for nodejsNN.x functions (spec 7.6), written to
// $LAMBDA_RUNTIME_DIR/node_bootstrap.js and run with the machine's node.
//
// Like AWS's Node runtime: _HANDLER is "<path/module>.<export>" resolved against
// LAMBDA_TASK_ROOT (.js, .cjs or .mjs; ES modules through import()); the handler may be async
// (returns a promise), take a callback (3 parameters), or use context.succeed/fail/done.
// Errors are reported as {"errorType","errorMessage","trace":[...]}; init failures go to
// /init/error (Runtime.ImportModuleError, Runtime.HandlerNotFound, Runtime.MalformedHandlerName).
'use strict';

const net = require('net');
const path = require('path');
const fs = require('fs');
const url = require('url');
const util = require('util');

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const HOST = API.slice(0, API.lastIndexOf(':'));
const PORT = Number(API.slice(API.lastIndexOf(':') + 1));
const PREFIX = '/2018-06-01/runtime';

// One keep-alive HTTP/1.1 connection to the Runtime API on a raw socket. The server is ours
// and always answers with Content-Length; Node's http module (agent, parser, event plumbing)
// cost more than the rest of a warm invocation (bench/lambda).
class RuntimeClient {
  constructor() {
    this.socket = null;
    this.chunks = [];  // received, not yet parsed
    this.size = 0;     // bytes in chunks
    this.need = 0;     // parse again once this many bytes are there (large bodies: once)
    this.pending = null;
  }

  connect() {
    const socket = net.createConnection({ host: HOST, port: PORT });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size >= this.need) this.parse();
    });
    const fail = (err) => {
      if (this.socket === socket) this.socket = null;
      const pending = this.pending;
      this.pending = null;
      if (pending) pending.reject(err || new Error('the Runtime API closed the connection'));
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
    this.socket = socket;
    this.chunks = [];
    this.size = 0;
    this.need = 0;
  }

  parse() {
    if (!this.pending || this.size === 0) return;
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [buffer];
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) {
      this.need = this.size + 1;
      return;
    }
    const lines = buffer.toString('latin1', 0, end).split('\r\n');
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] || 0);
    if (buffer.length < end + 4 + length) {
      this.need = end + 4 + length;
      return;
    }
    const body = buffer.subarray(end + 4, end + 4 + length);
    const rest = buffer.subarray(end + 4 + length);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    this.need = 0;
    const pending = this.pending;
    this.pending = null;
    if ((headers.connection || '').toLowerCase() === 'close') {
      const socket = this.socket;
      this.socket = null;
      socket.destroy();
    }
    pending.resolve({ status: Number(lines[0].split(' ')[1]), headers, body });
  }

  exchange(method, pathName, body, headers) {
    return new Promise((resolve, reject) => {
      if (!this.socket) this.connect();
      this.pending = { resolve, reject };
      const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      let head = `${method} ${pathName} HTTP/1.1\r\nHost: ${API}\r\n`;
      for (const [name, value] of Object.entries(headers || {})) head += `${name}: ${value}\r\n`;
      head += `Content-Length: ${payload.length}\r\n\r\n`;
      this.socket.write(payload.length ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : head);
    });
  }

  async call(method, pathName, body, headers) {
    try {
      return await this.exchange(method, pathName, body, headers);
    } catch (e) {
      // Reconnect once if the server dropped the connection (e.g. after a 413).
      if (this.socket) this.socket.destroy();
      this.socket = null;
      return this.exchange(method, pathName, body, headers);
    }
  }
}

const client = new RuntimeClient();
function call(method, pathName, body, headers) {
  return client.call(method, pathName, body, headers);
}

function errorDocument(err) {
  if (err && err.__fault) {
    return { errorType: err.errorType, errorMessage: err.message, trace: err.trace || [] };
  }
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message,
             trace: String(err.stack || '').split('\n') };
  }
  // A non-Error value thrown or passed to the callback.
  return { errorType: typeof err === 'string' ? 'string' : typeof err,
           errorMessage: typeof err === 'string' ? err : JSON.stringify(err), trace: [] };
}

function fault(errorType, message, trace) {
  const e = new Error(message);
  e.__fault = true;
  e.errorType = errorType;
  e.trace = trace;
  return e;
}

async function loadHandler(handlerString) {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const match = /^([^.]*?)\.(.*)$/.exec(path.basename(handlerString));
  if (!match) {
    throw fault('Runtime.MalformedHandlerName', `Bad handler ${handlerString}`);
  }
  const moduleRoot = handlerString.slice(0, handlerString.indexOf(path.basename(handlerString)));
  const moduleName = match[1];
  const handlerPath = match[2];
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  let module;
  try {
    if (fs.existsSync(base + '.mjs')) {
      module = await import(url.pathToFileURL(base + '.mjs').href);
    } else if (fs.existsSync(base + '.cjs')) {
      module = require(base + '.cjs');
    } else {
      try {
        module = require(base);
      } catch (e) {
        if (e && e.code === 'ERR_REQUIRE_ESM') {
          module = await import(url.pathToFileURL(base + '.js').href);
        } else {
          throw e;
        }
      }
    }
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(base)) {
      throw fault('Runtime.ImportModuleError',
                  `Error: Cannot find module '${moduleName}'\nRequire stack:\n- ${__filename}`,
                  String(e.stack || '').split('\n'));
    }
    if (e instanceof SyntaxError) {
      throw fault('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`,
                  String(e.stack || '').split('\n'));
    }
    throw e;
  }
  let handler = module;
  for (const part of handlerPath.split('.')) {
    handler = handler == null ? undefined : handler[part];
  }
  if (typeof handler !== 'function') {
    throw fault('Runtime.HandlerNotFound', `${moduleName}.${handlerPath} is undefined or not exported`);
  }
  return handler;
}

function makeContext(requestId, headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
  if (headers['lambda-runtime-client-context']) {
    try { context.clientContext = JSON.parse(headers['lambda-runtime-client-context']); } catch (e) { /* ignored */ }
  }
  if (headers['lambda-runtime-cognito-identity']) {
    try { context.identity = JSON.parse(headers['lambda-runtime-cognito-identity']); } catch (e) { /* ignored */ }
  }
  return context;
}

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(result);
    };
    context.done = done;
    context.succeed = (result) => done(null, result);
    context.fail = (err) => done(err === undefined || err === null ? 'handled' : err);
    try {
      const value = handler(event, context, done);
      if (value && typeof value.then === 'function') {
        value.then((r) => done(null, r), (e) => done(e === undefined || e === null ? new Error('rejected') : e));
      } else if (handler.length < 3) {
        // Neither a promise nor a callback: AWS ends the invocation with nothing (null).
        done(null, value === undefined ? null : value);
      }
    } catch (e) {
      done(e);
    }
  });
}

// As AWS's runtime: console lines are "<ISO time>\t<request id>\t<LEVEL>\t<message>".
let currentRequestId;
function patchConsole() {
  const write = (level, stream) => (...args) => {
    stream.write(`${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t` +
                 `${util.format(...args)}\n`);
  };
  console.log = write('INFO', process.stdout);
  console.info = write('INFO', process.stdout);
  console.debug = write('DEBUG', process.stdout);
  console.trace = write('TRACE', process.stdout);
  console.warn = write('WARN', process.stderr);
  console.error = write('ERROR', process.stderr);
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '');
  } catch (e) {
    const doc = errorDocument(e);
    console.error(`Uncaught Exception \t${JSON.stringify(doc)}`);
    await call('POST', `${PREFIX}/init/error`, JSON.stringify(doc),
               { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': doc.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', `${PREFIX}/invocation/next`);
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = requestId;
    if (next.headers['lambda-runtime-trace-id']) {
      process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }
    const context = makeContext(requestId, next.headers);
    let body;
    let failed = false;
    try {
      const text = next.body.toString('utf8');
      const event = text.length ? JSON.parse(text) : null;
      const result = await runHandler(handler, event, context);
      body = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      failed = true;
      body = e;
    }
    if (failed) {
      const doc = errorDocument(body);
      console.error(`Invoke Error \t${JSON.stringify(doc)}`);
      await call('POST', `${PREFIX}/invocation/${requestId}/error`, JSON.stringify(doc),
                 { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': doc.errorType });
    } else {
      await call('POST', `${PREFIX}/invocation/${requestId}/response`, body,
                 { 'Content-Type': 'application/json' });
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
