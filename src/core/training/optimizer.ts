/**
 * The optimisers a run can use, with PyTorch's exact update rules (tfjs's own optimisers differ:
 * their momentum SGD has no weight decay and scales the buffer differently), and with their
 * state exposed by name so that a checkpoint can hold it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config';

/** An optimiser over a fixed set of named variables. */
export interface TrainOptimizer {
	/**
	 * One update of every variable from its gradient (keyed by the variable's name; all must be
	 * present). Does not dispose the gradients.
	 */
	apply(gradients: Record<string, tf.Tensor>, lr: number): void;
	/** The optimiser's state by name (prefix 'optimizer/'); the caller owns the returned tensors. */
	state(): Record<string, tf.Tensor>;
	/** Replaces the state with one from {@link state}; throws on missing or mis-shaped entries. */
	load(state: Record<string, tf.Tensor>): void;
	/** Frees the optimiser's state. */
	dispose(): void;
}

/** Name of the step counter in {@link TrainOptimizer.state}. */
export const optimizerStepKey = 'optimizer/step';

const momentumPrefix = 'optimizer/momentum';
const adamFirstPrefix = 'optimizer/adam_m';
const adamSecondPrefix = 'optimizer/adam_v';

/**
 * The slots an optimiser's state holds once it has stepped, one tensor per trainable variable
 * named `<prefix>/<variable>` with the variable's shape (a checkpoint's layout depends on them).
 */
export function optimizerSlotPrefixes(
	config: Pick<TrainConfig, 'optimizer' | 'momentum'>
): string[] {
	if (config.optimizer === 'adam') return [adamFirstPrefix, adamSecondPrefix];
	return config.momentum > 0 ? [momentumPrefix] : [];
}

/** Adam's constants: PyTorch's defaults. */
const adamBeta1 = 0.9;
const adamBeta2 = 0.999;
const adamEpsilon = 1e-8;

/** Named slot tensors (momentum, Adam moments), one set per variable. */
class Slots {
	readonly values = new Map<string, tf.Variable>();

	constructor(readonly prefix: string) {}

	key(name: string): string {
		return `${this.prefix}/${name}`;
	}

	set(name: string, value: tf.Tensor): void {
		const existing = this.values.get(name);
		if (existing) existing.assign(value);
		else this.values.set(name, tf.variable(value, false));
	}

	dispose(): void {
		for (const value of this.values.values()) value.dispose();
		this.values.clear();
	}
}

abstract class NamedOptimizer implements TrainOptimizer {
	protected steps = 0;

	constructor(
		protected readonly variables: ReadonlyMap<string, tf.Variable>,
		protected readonly weightDecay: number,
		protected readonly slots: readonly Slots[]
	) {}

	apply(gradients: Record<string, tf.Tensor>, lr: number): void {
		for (const name of this.variables.keys()) {
			if (!gradients[name]) throw new Error(`No gradient was given for '${name}'.`);
		}
		this.steps++;
		for (const [name, variable] of this.variables) {
			// One scope per variable: fc6's temporaries alone are 150 MB each in the paper's model.
			tf.tidy(() => {
				const gradient = gradients[name] as tf.Tensor;
				// PyTorch's coupled weight decay: the L2 term joins the gradient.
				const decayed =
					this.weightDecay > 0 ? tf.add(gradient, tf.mul(variable, this.weightDecay)) : gradient;
				this.update(name, variable, decayed, lr);
			});
		}
	}

	protected abstract update(
		name: string,
		variable: tf.Variable,
		gradient: tf.Tensor,
		lr: number
	): void;

	state(): Record<string, tf.Tensor> {
		const state: Record<string, tf.Tensor> = { [optimizerStepKey]: tf.scalar(this.steps) };
		for (const slots of this.slots) {
			for (const [name, value] of slots.values) state[slots.key(name)] = tf.clone(value);
		}
		return state;
	}

	load(state: Record<string, tf.Tensor>): void {
		const step = state[optimizerStepKey];
		if (!step || step.size !== 1) {
			throw new Error(`The optimiser state has no '${optimizerStepKey}' counter.`);
		}
		const steps = step.dataSync()[0] ?? 0;
		if (!Number.isInteger(steps) || steps < 0) {
			throw new Error(`The optimiser state's step counter is not a count: ${steps}.`);
		}
		const expected = new Set([optimizerStepKey]);
		for (const slots of this.slots) {
			if (!this.hasSlotsAfter(steps)) break;
			for (const [name, variable] of this.variables) {
				const key = slots.key(name);
				expected.add(key);
				const value = state[key];
				if (!value) throw new Error(`The optimiser state lacks '${key}'.`);
				if (!tf.util.arraysEqual(value.shape, variable.shape)) {
					throw new Error(
						`The optimiser state's '${key}' has shape [${value.shape.join(', ')}], expected [${variable.shape.join(', ')}].`
					);
				}
			}
		}
		const unexpected = Object.keys(state).filter((key) => !expected.has(key));
		if (unexpected.length > 0) {
			throw new Error(
				`The optimiser state has entries this optimiser does not use: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', …' : ''}.`
			);
		}
		for (const slots of this.slots) {
			slots.dispose();
			if (!this.hasSlotsAfter(steps)) continue;
			for (const name of this.variables.keys()) {
				slots.set(name, tf.clone(state[slots.key(name)] as tf.Tensor));
			}
		}
		this.steps = steps;
	}

	/** Whether the slots exist once `steps` updates have been made. */
	protected hasSlotsAfter(steps: number): boolean {
		return steps > 0;
	}

	dispose(): void {
		for (const slots of this.slots) slots.dispose();
	}
}

/**
 * `torch.optim.SGD` (no dampening, no Nesterov): d = g + wd·w; buf = d on the first step, else
 * buf = μ·buf + d; w −= lr·buf. With μ = 0 there is no buffer and w −= lr·d.
 */
class SgdOptimizer extends NamedOptimizer {
	private readonly momentumSlots: Slots;

	constructor(
		variables: ReadonlyMap<string, tf.Variable>,
		weightDecay: number,
		private readonly momentum: number
	) {
		const momentumSlots = new Slots(momentumPrefix);
		super(variables, weightDecay, [momentumSlots]);
		this.momentumSlots = momentumSlots;
	}

	protected update(name: string, variable: tf.Variable, gradient: tf.Tensor, lr: number): void {
		let direction = gradient;
		if (this.momentum > 0) {
			const buffer = this.momentumSlots.values.get(name);
			this.momentumSlots.set(
				name,
				buffer ? tf.add(tf.mul(buffer, this.momentum), gradient) : gradient
			);
			direction = this.momentumSlots.values.get(name) as tf.Variable;
		}
		variable.assign(tf.sub(variable, tf.mul(direction, lr)));
	}

	protected override hasSlotsAfter(steps: number): boolean {
		return this.momentum > 0 && steps > 0;
	}
}

/**
 * `torch.optim.Adam` (β = 0.9, 0.999, ε = 1e-8, coupled weight decay, no AMSGrad):
 * m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², w −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε).
 */
class AdamOptimizer extends NamedOptimizer {
	private readonly first: Slots;
	private readonly second: Slots;

	constructor(variables: ReadonlyMap<string, tf.Variable>, weightDecay: number) {
		const first = new Slots(adamFirstPrefix);
		const second = new Slots(adamSecondPrefix);
		super(variables, weightDecay, [first, second]);
		this.first = first;
		this.second = second;
	}

	protected update(name: string, variable: tf.Variable, gradient: tf.Tensor, lr: number): void {
		const m = this.first.values.get(name);
		const v = this.second.values.get(name);
		const scaledGradient = tf.mul(gradient, 1 - adamBeta1);
		const scaledSquare = tf.mul(tf.square(gradient), 1 - adamBeta2);
		this.first.set(name, m ? tf.add(tf.mul(m, adamBeta1), scaledGradient) : scaledGradient);
		this.second.set(name, v ? tf.add(tf.mul(v, adamBeta2), scaledSquare) : scaledSquare);
		const correction1 = 1 - adamBeta1 ** this.steps;
		const correction2 = 1 - adamBeta2 ** this.steps;
		const denominator = tf.add(
			tf.div(tf.sqrt(this.second.values.get(name) as tf.Variable), Math.sqrt(correction2)),
			adamEpsilon
		);
		const stepSize = lr / correction1;
		variable.assign(
			tf.sub(
				variable,
				tf.mul(tf.div(this.first.values.get(name) as tf.Variable, denominator), stepSize)
			)
		);
	}
}

/**
 * The optimiser a run asks for, over `variables` (keyed by the names gradients will carry).
 * SGD uses `momentum` and `weightDecay`; Adam uses `weightDecay` (the caller picks 0 if it
 * wants none) and PyTorch's fixed β, ignoring `momentum`.
 */
export function createOptimizer(
	config: Pick<TrainConfig, 'optimizer' | 'momentum' | 'weightDecay'>,
	variables: ReadonlyMap<string, tf.Variable>
): TrainOptimizer {
	return config.optimizer === 'sgd'
		? new SgdOptimizer(variables, config.weightDecay, config.momentum)
		: new AdamOptimizer(variables, config.weightDecay);
}
