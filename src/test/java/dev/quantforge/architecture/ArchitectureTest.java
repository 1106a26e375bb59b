package dev.quantforge.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

import dev.quantforge.worker.JobHandler;

/**
 * Dependencies point downward: controllers → services → engine. The engine ({@code quant}) and the
 * training engine ({@code qat}) are plain Java — no Spring, Jakarta or Jackson, no service package —
 * so they can be read, tested and benchmarked on their own; {@code quant} does not know {@code qat}.
 * No package cycles at any level, and the task handlers do not lean on each other.
 */
@AnalyzeClasses(packages = "dev.quantforge", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    static final String[] FRAMEWORKS = {"org.springframework..", "jakarta..", "org.hibernate..", "tools.jackson..", "com.fasterxml.."};
    static final String[] SERVICE_PACKAGES = {"dev.quantforge.model..", "dev.quantforge.dataset..", "dev.quantforge.storage..",
            "dev.quantforge.job..", "dev.quantforge.worker..", "dev.quantforge.report..", "dev.quantforge.artifact..",
            "dev.quantforge.platform..", "dev.quantforge.webhook.."};

    @ArchTest
    static final ArchRule engineIsPlainJava = noClasses().that().resideInAnyPackage("dev.quantforge.quant..", "dev.quantforge.qat..")
            .should().dependOnClassesThat().resideInAnyPackage(FRAMEWORKS)
            .because("the engines stay plain Java");

    @ArchTest
    static final ArchRule enginesDependOnNoServicePackage = noClasses().that().resideInAnyPackage("dev.quantforge.quant..", "dev.quantforge.qat..")
            .should().dependOnClassesThat().resideInAnyPackage(SERVICE_PACKAGES)
            .because("services call the engines, never the other way round");

    @ArchTest
    static final ArchRule quantDoesNotKnowQat = noClasses().that().resideInAPackage("dev.quantforge.quant..")
            .should().dependOnClassesThat().resideInAPackage("dev.quantforge.qat..")
            .because("QAT is built on the quantization engine, not the other way round");

    @ArchTest
    static final ArchRule noCyclesBetweenFeatures = slices().matching("dev.quantforge.(*)..").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule noCyclesInsideTheEngine = slices().matching("dev.quantforge.quant.(*)..").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule handlersDoNotDependOnEachOther = classes().that().resideInAPackage("dev.quantforge.worker.tasks")
            .should(new ArchCondition<JavaClass>("depend on no task handler but their own") {
                @Override
                public void check(JavaClass source, ConditionEvents events) {
                    JavaClass own = outermost(source);
                    for (Dependency d : source.getDirectDependenciesFromSelf()) {
                        JavaClass target = outermost(d.getTargetClass());
                        if (!target.equals(own) && !target.isInterface() && target.isAssignableTo(JobHandler.class)) {
                            events.add(SimpleConditionEvent.violated(d, d.getDescription()));
                        }
                    }
                }
            })
            .because("a job type is an adapter to the engine; what two types share lives in the engine or a shared helper");

    private static JavaClass outermost(JavaClass c) {
        JavaClass current = c;
        while (current.getEnclosingClass().isPresent()) {
            current = current.getEnclosingClass().get();
        }
        return current;
    }

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
