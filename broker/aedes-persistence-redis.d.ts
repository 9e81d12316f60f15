// aedes-persistence-redis ships no types: it returns an aedes persistence over ioredis options.
// Called without callbacks, its methods (destroy included) return promises.
declare module 'aedes-persistence-redis' {
  import type { AedesOptions } from 'aedes';
  export default function aedesPersistenceRedis(options?: Record<string, unknown>): NonNullable<AedesOptions['persistence']> & { destroy(): Promise<void> };
}
