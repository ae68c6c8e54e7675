// cdk8s app entry: `npm run synth` writes dist/hitl-gates.k8s.yaml for `kubectl apply -f dist/`.
import { App } from 'cdk8s';
import { HitlStack } from './constructs/index.js';

const app = new App({ outdir: 'dist' });
new HitlStack(app, 'hitl-gates', {
  image: { ref: process.env.HITL_IMAGE ?? 'hitl-gates:dev', pullPolicy: 'IfNotPresent' },
});
app.synth();
