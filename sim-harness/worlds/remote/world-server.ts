// Serves a fleetmind world over the remote-world protocol: every connection gets its own batch of
// the world, as many envs as its HELLO asks for. `fleetmind worlds serve` runs it, so a world (a
// plugin included) can be trained against from another machine, and the protocol's own tests
// and benchmark have a server whose world is known exactly.

import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { WorldError, type Actions, type World } from '../types.js';
import { parseEndpoint } from './endpoints.js';
import {
  actionsPerEnv, BodyReader, BodyWriter, FrameReader, FrameType, helloSchema, parseJson, PROTOCOL_VERSION,
  ProtocolError, snapshotOf, specActionSpace, writeObservations, writeStepResult, type Frame, type FrameTypeCode, type Hello, type WorldSpec,
} from './protocol.js';

export interface WorldServerOptions {
  /** tcp://host:port (port 0: any free port) or unix:/path */
  listen: string;
  /** makes the batch a connection asks for */
  makeWorld(numEnvs: number, autoReset: boolean, options: Record<string, unknown>): World;
  /** errors, connections (default: nothing) */
  log?: (line: string) => void;
}

export interface WorldServer {
  /** the address clients use: tcp://host:port or unix:/path */
  readonly url: string;
  readonly connections: number;
  close(): Promise<void>;
}

export async function serveWorld(o: WorldServerOptions): Promise<WorldServer> {
  const endpoint = parseEndpoint(o.listen, '--listen', true);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket, o).start();
  });
  if (endpoint.kind === 'unix' && existsSync(endpoint.path)) unlinkSync(endpoint.path); // a socket a killed server left behind
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (endpoint.kind === 'tcp') server.listen(endpoint.port, endpoint.host, resolve);
    else server.listen(endpoint.path, resolve);
  });
  const address = server.address();
  const url = endpoint.kind === 'tcp' && address && typeof address === 'object' ? `tcp://${endpoint.host}:${address.port}` : endpoint.url;
  return {
    url,
    get connections() { return sockets.size; },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

class Connection {
  private readonly reader: FrameReader;
  private world: ReturnType<WorldServerOptions['makeWorld']> | null = null;
  private spec: WorldSpec | null = null;
  private hello: Hello | null = null;
  /** the world's observation and info arrays, as its last reset or step returned them */
  private current: { observations: Float32Array[]; infos: Readonly<Record<string, Float64Array>> } | null = null;

  constructor(private readonly socket: Socket, private readonly o: WorldServerOptions) {
    this.reader = new FrameReader(`client ${socket.remoteAddress ?? 'local'}`);
  }

  start(): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        return this.refuse(err as Error, true);
      }
      for (const frame of frames) {
        try {
          this.answer(frame);
        } catch (err) {
          // a broken frame ends the conversation; a refused request (a bad action) does not
          this.refuse(err as Error, err instanceof ProtocolError);
          if (err instanceof ProtocolError) return;
        }
      }
    });
    this.socket.on('error', (err) => this.o.log?.(`connection error: ${err.message}`));
    this.socket.on('close', () => this.world?.close());
  }

  private send(type: FrameTypeCode, body: BodyWriter): void {
    this.socket.write(body.frame(type));
  }

  private refuse(err: Error, fatal: boolean): void {
    const code = err instanceof ProtocolError ? 'protocol' : err instanceof WorldError ? 'refused' : 'internal';
    this.o.log?.(`refused: ${err.message}`);
    this.send(FrameType.ERROR, new BodyWriter().json({ code, message: err.message, ...(err instanceof ProtocolError && err.field ? { field: err.field } : {}) }));
    if (fatal) this.socket.end();
  }

  private answer(frame: Frame): void {
    if (frame.type === FrameType.HELLO) return this.greet(frame);
    if (frame.type === FrameType.CLOSE) { this.socket.end(); return; }
    const world = this.world;
    const spec = this.spec;
    if (!world || !spec) throw new ProtocolError(`frame type ${frame.type} before HELLO`, 'type');
    const e = world.numEnvs;
    switch (frame.type) {
      case FrameType.RESET: {
        const r = new BodyReader(frame.body, 'RESET');
        const seed = r.i64('seed');
        const firstStream = r.u32('first_stream');
        r.end('first_stream');
        const result = world.reset(seed, firstStream);
        this.current = { observations: result.observations, infos: result.infos };
        return this.send(FrameType.OBSERVATIONS, this.observations());
      }
      case FrameType.STEP: {
        const started = performance.now();
        const perEnv = actionsPerEnv(spec);
        const r = new BodyReader(frame.body, 'STEP');
        let actions: Actions;
        if (spec.action_spaces[0].kind === 'discrete') actions = r.i32s('actions', e * perEnv);
        else actions = r.f32s('actions', e * perEnv);
        r.end('actions');
        const s = world.step(actions);
        this.current = { observations: s.observations, infos: s.infos };
        const body = writeStepResult(new BodyWriter(), {
          serverUs: (performance.now() - started) * 1000,
          observations: s.observations, state: world.state(), infos: spec.info_keys.map((k) => s.infos[k]), active: s.active,
          rewards: s.rewards, terminations: s.terminations, truncations: s.truncations, episodeEnded: s.episodeEnded,
          finalObservations: s.finalObservations, finalStates: s.finalStates,
        }, spec, this.hello!.auto_reset);
        return this.send(FrameType.STEP_RESULT, body);
      }
      case FrameType.SNAPSHOT: {
        const r = new BodyReader(frame.body, 'SNAPSHOT');
        const env = r.u32('env');
        r.end('env');
        return this.send(FrameType.SNAPSHOT_RESULT, new BodyWriter().json(world.snapshot(env)));
      }
      case FrameType.SET_STATE: {
        const r = new BodyReader(frame.body, 'SET_STATE');
        const env = r.u32('env');
        const snapshot = snapshotOf(r.json('snapshot'), 'SET_STATE');
        r.end('snapshot');
        if (!this.current) this.current = world.reset(0);
        world.setState(env, snapshot); // (a world's observation arrays are its own, updated in place)
        return this.send(FrameType.OBSERVATIONS, this.observations());
      }
      default:
        throw new ProtocolError(`unknown frame type ${frame.type}`, 'type');
    }
  }

  private greet(frame: Frame): void {
    if (this.world) throw new ProtocolError('a second HELLO on one connection', 'type');
    const hello = parseJson(helloSchema, new BodyReader(frame.body, 'HELLO').json('hello'), 'HELLO');
    if (hello.protocol !== PROTOCOL_VERSION) throw new ProtocolError(`the client speaks protocol ${hello.protocol}; this server speaks ${PROTOCOL_VERSION}`, 'protocol');
    const world = this.o.makeWorld(hello.num_envs, hello.auto_reset, hello.options);
    this.world = world;
    this.hello = hello;
    const agents = world.possibleAgents;
    this.spec = {
      protocol: PROTOCOL_VERSION, id: world.id, agents: [...agents], roles: [...world.roles],
      observation_sizes: agents.map((a) => world.observationSpace(a).shape[0]),
      observation_fields: agents.map((_, i) => world.observationFields(i)),
      action_spaces: agents.map((a) => specActionSpace(world.actionSpace(a))),
      state_size: world.stateSize, max_cycles: world.maxCycles, info_keys: [...world.infoKeys], comes_and_goes: world.comesAndGoes,
    };
    this.o.log?.(`serving ${world.id} × ${hello.num_envs} envs to ${this.socket.remoteAddress ?? 'a local client'}`);
    this.send(FrameType.SPEC, new BodyWriter().json(this.spec));
  }

  private observations(): BodyWriter {
    const world = this.world!;
    const { observations, infos } = this.current!;
    return writeObservations(new BodyWriter(), { observations, state: world.state(), infos: this.spec!.info_keys.map((k) => infos[k]), active: world.active });
  }
}
