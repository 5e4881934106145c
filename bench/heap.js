// Preloaded into the soak's gateway (node --import): what its memory is made of, to tell a growing
// heap from memory outside it when RSS grows. SIGUSR2 prints it as one line, in MB.
const MB = 1024 * 1024;

process.on('SIGUSR2', () => {
  const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  const figures = { heapUsed: heapUsed / MB, heapTotal: heapTotal / MB, external: external / MB, arrayBuffers: arrayBuffers / MB };
  process.stdout.write(`heap ${JSON.stringify(figures)}\n`);
});
