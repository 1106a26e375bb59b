package dev.quantforge.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Dependencies point downward: controllers → services → engine. The engine ({@code quant}) is
 * plain Java — no Spring, no JPA, no service package — so it can be read, tested and benchmarked
 * on its own. Feature packages below the job queue never reach up into it.
 */
@AnalyzeClasses(packages = "dev.quantforge", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule engineHasNoSpring = noClasses().that().resideInAPackage("dev.quantforge.quant..")
            .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "jakarta.persistence..",
                    "jakarta.servlet..", "org.hibernate..", "tools.jackson..", "com.fasterxml..")
            .because("the engine stays plain Java");

    @ArchTest
    static final ArchRule engineDependsOnNoServicePackage = noClasses().that().resideInAPackage("dev.quantforge.quant..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.quantforge.model..", "dev.quantforge.dataset..",
                    "dev.quantforge.storage..", "dev.quantforge.job..", "dev.quantforge.worker..", "dev.quantforge.report..",
                    "dev.quantforge.artifact..", "dev.quantforge.platform..")
            .because("services call the engine, never the other way round");

    @ArchTest
    static final ArchRule qatEngineIsPlainJava = noClasses().that().resideInAPackage("dev.quantforge.qat..")
            .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "jakarta.persistence..",
                    "jakarta.servlet..", "org.hibernate..", "tools.jackson..", "com.fasterxml..",
                    "dev.quantforge.model..", "dev.quantforge.dataset..", "dev.quantforge.storage..",
                    "dev.quantforge.job..", "dev.quantforge.worker..", "dev.quantforge.report..",
                    "dev.quantforge.artifact..", "dev.quantforge.platform..")
            .because("the QAT training engine is plain Java on top of the quant engine");

    @ArchTest
    static final ArchRule compileEngineIsPlainJava = noClasses().that().resideInAPackage("dev.quantforge.compile..")
            .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "jakarta..", "org.hibernate..",
                    "dev.quantforge.model..", "dev.quantforge.dataset..", "dev.quantforge.storage..",
                    "dev.quantforge.job..", "dev.quantforge.worker..", "dev.quantforge.report..",
                    "dev.quantforge.artifact..", "dev.quantforge.platform..")
            .because("TensorRT compilation is plain Java on top of the quant engine (Jackson only reads trtexec's JSON); "
                    + "a job handler adapts it to jobs, reports and artifacts");

    @ArchTest
    static final ArchRule datasetReadersArePlainJava = noClasses().that().resideInAPackage("dev.quantforge.dataset.io..")
            .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "jakarta.persistence..")
            .because("the dataset readers feed the engine and are tested without a server");

    @ArchTest
    static final ArchRule inputsDoNotDependOnJobs = noClasses().that()
            .resideInAnyPackage("dev.quantforge.model..", "dev.quantforge.dataset..", "dev.quantforge.storage..",
                    "dev.quantforge.report..", "dev.quantforge.artifact..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.quantforge.job..", "dev.quantforge.worker..")
            .because("models, datasets, storage and results sit below the job queue");

    @ArchTest
    static final ArchRule jobsDoNotDependOnWorkers = noClasses().that().resideInAPackage("dev.quantforge.job..")
            .should().dependOnClassesThat().resideInAPackage("dev.quantforge.worker..")
            .because("workers implement job types; the queue does not know them");
}
