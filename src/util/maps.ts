/** The value under `key`, created by `make` the first time it is asked for. */
export function getOrInsert<K, V>(map: Map<K, V> | WeakMap<K & object, V>, key: K, make: () => V): V {
  let v = (map as Map<K, V>).get(key);
  if (v === undefined) {
    v = make();
    (map as Map<K, V>).set(key, v);
  }
  return v;
}
