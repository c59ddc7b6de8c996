/**
 * The README's quick start: three temperature sensors and a monitor, all in
 * one process here for convenience (in real use each runs on its own
 * machine, with `bootstrapNodes` pointing at the monitor's address).
 *
 *   npm run build && npx tsx examples/temperature-monitor.ts
 */
import { DSNodeServer, generateKey } from 'distributed-state-network';

const aesKey = generateKey(); // share this with every node of the network
const local = { host: '127.0.0.1', credentialDir: null, aesKey };

// The monitor: other nodes join through it. It only reads.
const monitor = await DSNodeServer.start({ ...local, nodeId: 'monitor', port: 0 });
const bootstrapNodes = [{ address: '127.0.0.1', port: monitor.port }];

// Sensors: each owns its state and writes its own temperature.
const sensors = await Promise.all(
  ['kitchen', 'garage', 'attic'].map((room) =>
    DSNodeServer.start({ ...local, nodeId: `sensor-${room}`, port: 0, bootstrapNodes }),
  ),
);

// The monitor hears about every change; reads are local, no request needed.
monitor.on('update', (nodeId) => {
  console.log(`${nodeId.padEnd(14)} ${monitor.readData(nodeId, 'temperature')} °C`);
});

for (let round = 0; round < 3; round++) {
  await Promise.all(
    sensors.map((s) => s.updateData('temperature', (18 + Math.random() * 8).toFixed(1))),
  );
}

console.log('\nwhat the monitor holds:');
for (const id of monitor.peers().filter((id) => id.startsWith('sensor-'))) {
  console.log(`  ${id}: ${monitor.readData(id, 'temperature')} °C`);
}

await Promise.all([...sensors, monitor].map((s) => s.stop()));
