// Saturation.swift — saturation.png: how many hidden units are stuck where their slope is ~0.
//
// Teaches: why the initialisation is chosen for the activation. A tanh unit with |a| > 0.99, or
// a sigmoid unit outside [0.01, 0.99], passes almost no gradient back (tanh′ = 1 − a² < 0.02,
// σ′ = a(1 − a) < 0.0099): it has saturated. Glorot's scale keeps the pre-activations small
// enough that few units start there; a larger spread (try `--init-scheme kaiming-uniform` on a
// wide layer, or a large `--learning-rate`) starts or drives more of them into it. The shares are
// measured on the first 1,000 test samples, at initialisation and after every epoch, with the
// reference run's weights (every style's, bit for bit).
// Leaves out: per-unit histograms, dead-unit detection over the training set.

import Charts
import Level4Manual
import Shared

/// The saturated shares of each hidden layer at one point of training.
public struct SaturationRecord: Codable, Sendable, Equatable {
    /// 0 at initialisation, then the epoch after which it was measured.
    public var epoch: Int
    /// Share of layer 1's tanh outputs with `|a| > 0.99`.
    public var tanhSaturated: Double
    /// Share of layer 2's sigmoid outputs outside `[0.01, 0.99]`.
    public var sigmoidSaturated: Double

    /// The shares for `network`'s current weights on `batch` (the forward pass of Level 4).
    public static func measure(_ network: inout ManualNetwork<Float>, on batch: Batch<Float>, epoch: Int) -> SaturationRecord {
        _ = network.forward(batch)
        let tanhShare = Double(network.a1.storage.count { abs($0) > 0.99 }) / Double(max(1, network.a1.count))
        let sigmoidShare = Double(network.a2.storage.count { $0 < 0.01 || $0 > 0.99 }) / Double(max(1, network.a2.count))
        return SaturationRecord(epoch: epoch, tanhSaturated: tanhShare, sigmoidSaturated: sigmoidShare)
    }
}

/// Collects ``SaturationRecord``s during a `manual` run (its `afterEpoch` hook).
final class SaturationRecorder {
    let sample: Batch<Float>
    private(set) var records: [SaturationRecord] = []

    init(test: Dataset<Float>, initial: NetworkParameters<Float>) {
        sample = test.batch(rows: 0..<min(1000, test.count))
        var network = ManualNetwork(parameters: initial, learningRate: 0)
        records = sample.count > 0 ? [.measure(&network, on: sample, epoch: 0)] : []
    }

    func record(epoch: Int, network: inout ManualNetwork<Float>) {
        guard sample.count > 0 else { return }
        var copy = network                              // its buffers are the loop's: measure on a copy
        records.append(.measure(&copy, on: sample, epoch: epoch))
    }
}

extension ComparisonOutcome {
    /// `saturation.png`: the saturated shares of both hidden layers, per epoch (0 = at
    /// initialisation), in percent.
    func saturationChart(_ records: [SaturationRecord]) -> LineChart {
        let scheme = experiment.options.initFile == nil ? experiment.options.initScheme.rawValue : "weights from --init"
        return LineChart(
            title: "Saturated hidden units (first \(min(1000, experiment.test.count)) test samples, \(scheme))",
            xLabel: "epoch (0 = initial weights)", yLabel: "% of units",
            series: [
                LineSeries(name: "layer 1, tanh: |a| > 0.99", points: records.map { (Double($0.epoch), 100 * $0.tanhSaturated) },
                           marker: .circle),
                LineSeries(name: "layer 2, sigmoid: a < 0.01 or a > 0.99",
                           points: records.map { (Double($0.epoch), 100 * $0.sigmoidSaturated) }, marker: .circle),
            ])
    }
}
