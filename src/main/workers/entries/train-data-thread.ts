/**
 * A data thread of the training batch pipeline (`training/batch-pipeline.ts`): loads images and
 * draws their augmented views for the slots it is given, while the training step runs on the
 * thread that owns the model.
 */
import { dataThread } from '../../training/batch-pipeline';
import { installWasmStyleganConvolutions } from '../../compute/kernels/wasm-stylegan-conv';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import { serveThread } from '../../threads/serve';

installCacheFromEnvironment();
installWasmStyleganConvolutions();

serveThread(dataThread);
