package dev.quantforge.quant.testdata;

import java.nio.file.Path;

/** Paths of the shared real models and data sets used by the engine tests. */
public final class Models {

    public static final Path DATASETS = dev.quantforge.testsupport.SharedData.root();
    public static final Path MNIST8 = DATASETS.resolve("mnist/mnist-8.onnx");
    public static final Path MNIST7 = DATASETS.resolve("mnist/mnist-7.onnx");
    public static final Path TRIBUO_CNN = DATASETS.resolve("mnist/tribuo-pytorch_cnn_mnist.onnx");
    public static final Path SKL_LR = DATASETS.resolve("mnist/tribuo-skl_lr_mnist.onnx");
    public static final Path MNIST8_EVAL = DATASETS.resolve("mnist/mnist8-eval.npz");
    public static final Path CIFAR_IC = DATASETS.resolve("cifar10-mlperftiny-ic/model_ic.onnx");
    public static final Path ULTRAFACE = DATASETS.resolve("ultraface-rfb-320/version-RFB-320.onnx");
    public static final Path TINYBERT = DATASETS.resolve("tinybert-tribuo/tinybert.onnx");
    public static final Path KWS = DATASETS.resolve("kws-mlperftiny/model_kws.onnx");
    public static final Path VWW = DATASETS.resolve("mlperftiny-alibaba-extra/model_vww.onnx");
    public static final Path AD = DATASETS.resolve("mlperftiny-alibaba-extra/model_ad.onnx");

    private Models() {
    }
}
